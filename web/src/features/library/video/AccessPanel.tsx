// Who may watch: the policy editor with its plain-language summary, share
// links (the secret URL shown once), and the embed code.
import { useEffect, useState } from 'react';
import { api, call } from '../../../api/client.ts';
import { useFormat, useT } from '../../../app/i18n.tsx';
import { Button, CheckboxField, ErrorView, Form, Loading, Section, TextAreaField, TextField, useAsync, useToast } from '../../../ui/index.ts';
import { useErrorText } from '../data.ts';
import { summarizePolicy } from '../policy-summary.ts';
import type { AccessView, Audience, Conditions, CreatedLink, MemberRole, Video } from '../types.ts';
import { CopyField } from './CopyField.tsx';

const ROLES: MemberRole[] = ['owner', 'admin', 'editor', 'viewer'];
const lines = (s: string) => s.split(/[\n,]/).map((x) => x.trim()).filter(Boolean);
const toLocal = (iso?: string) => (iso ? new Date(new Date(iso).getTime() - new Date(iso).getTimezoneOffset() * 60_000).toISOString().slice(0, 16) : '');
const fromLocal = (v: string) => (v ? new Date(v).toISOString() : undefined);

interface Draft {
  public: boolean; link: boolean; members: boolean; roles: MemberRole[]; groups: string[]; password: boolean; sso: boolean; domains: string;
  newPassword: string; ipAllow: string; referrers: string; from: string; until: string; bindToIp: boolean;
}

function draftOf(a: AccessView): Draft {
  const find = <T extends Audience['type']>(type: T) => a.audiences.find((x) => x.type === type) as Extract<Audience, { type: T }> | undefined;
  return {
    public: Boolean(find('public')), link: Boolean(find('link')), members: Boolean(find('members')), roles: find('members')?.roles ?? [], groups: find('members')?.groups ?? [],
    password: Boolean(find('password')), sso: Boolean(find('sso')), domains: (find('sso')?.emailDomains ?? []).join('\n'), newPassword: '',
    ipAllow: (a.conditions.ipAllow ?? []).join('\n'), referrers: (a.conditions.referrers ?? []).join('\n'),
    from: toLocal(a.conditions.availableFrom), until: toLocal(a.conditions.availableUntil), bindToIp: Boolean(a.conditions.bindToIp),
  };
}

function policyOf(d: Draft): { audiences: Audience[]; conditions: Conditions } {
  const audiences: Audience[] = [];
  if (d.public) audiences.push({ type: 'public' });
  if (d.members) audiences.push({ type: 'members', ...(d.roles.length ? { roles: d.roles } : {}), ...(d.groups.length ? { groups: d.groups } : {}) });
  if (d.password) audiences.push({ type: 'password' });
  if (d.sso) audiences.push(lines(d.domains).length ? { type: 'sso', emailDomains: lines(d.domains) } : { type: 'sso' });
  if (d.link) audiences.push({ type: 'link' });
  const conditions: Conditions = {};
  if (lines(d.ipAllow).length) conditions.ipAllow = lines(d.ipAllow);
  if (lines(d.referrers).length) conditions.referrers = lines(d.referrers);
  if (d.from) conditions.availableFrom = fromLocal(d.from);
  if (d.until) conditions.availableUntil = fromLocal(d.until);
  if (d.bindToIp) conditions.bindToIp = true;
  return { audiences, conditions };
}

export function AccessPanel({ video, canEdit }: { video: Video; canEdit: boolean }) {
  const t = useT();
  const access = useAsync(() => call(api.GET('/api/v1/videos/{id}/access', { params: { path: { id: video.id } } })), [video.id]);
  return (
    <div className="lib-stack">
      {access.error ? <ErrorView error={access.error} onRetry={access.reload} /> : !access.data ? <Loading /> : (
        <PolicyEditor video={video} access={access.data} canEdit={canEdit} onSaved={access.setData} />
      )}
      <LinksSection video={video} canEdit={canEdit} />
      <Section title={t('library.embed.title')}>
        <p className="field-hint">{t('library.embed.hint')}</p>
        <CopyField label={t('library.embed.code')} multiline
          value={`<iframe src="${location.origin}/embed/${video.id}" title="${video.title.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)}" width="640" height="360" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen></iframe>`} />
        <CopyField label={t('library.embed.watchUrl')} value={`${location.origin}/watch/${video.id}`} />
      </Section>
    </div>
  );
}

function PolicyEditor({ video, access, canEdit, onSaved }: { video: Video; access: AccessView; canEdit: boolean; onSaved(a: AccessView): void }) {
  const t = useT();
  const format = useFormat();
  const toast = useToast();
  const [d, setD] = useState<Draft>(() => draftOf(access));
  useEffect(() => setD(draftOf(access)), [access]);
  const set = (patch: Partial<Draft>) => setD((x) => ({ ...x, ...patch }));
  const policy = policyOf(d);
  // Editors may list the organization's groups (names only) to choose from; viewers see the summary without names.
  const groups = useAsync(() => (canEdit ? call(api.GET('/api/v1/groups')).then((r) => r.items) : Promise.resolve([])), [canEdit]);
  const groupNames = Object.fromEntries((groups.data ?? []).map((g) => [g.id, g.name]));
  // A group named by the stored policy but deleted since: shown so it can be unticked (it admits no one).
  const deletedGroups = groups.data ? d.groups.filter((id) => !groupNames[id]) : [];
  const summary = summarizePolicy({ ...policy, hasPassword: access.hasPassword || d.newPassword.length >= 8, publishState: video.publishState, groupNames: groups.data ? groupNames : undefined }, t, format.dateTime);

  function validate() {
    const e: Record<string, string | undefined> = {};
    if (!policy.audiences.length) e.audiences = t('library.access.needAudience');
    if (d.password && !access.hasPassword && d.newPassword.length < 8) e.newPassword = t('library.access.passwordShort');
    if (d.newPassword && d.newPassword.length < 8) e.newPassword = t('library.access.passwordShort');
    if (d.from && d.until && Date.parse(d.from) >= Date.parse(d.until)) e.until = t('library.access.untilAfterFrom');
    return e;
  }

  return (
    <Section title={t('library.access.title')}>
      <div className="lib-summary" aria-live="polite">
        <h3>{t('library.access.summary.title')}</h3>
        <ul>{summary.who.map((line) => <li key={line}>{line}</li>)}</ul>
        <ul className="lib-summary-limits">{summary.limits.map((line) => <li key={line}>{line}</li>)}</ul>
        {summary.warnings.map((w) => <p key={w} className="alert alert-warning">{w}</p>)}
      </div>
      {canEdit ? (
        <Form label={t('library.access.title')} validate={validate} submitLabel={t('library.access.save')} onSubmit={async () => {
          const saved = await call(api.PUT('/api/v1/videos/{id}/access', {
            params: { path: { id: video.id } },
            body: { ...policy, ...(d.newPassword ? { password: d.newPassword } : !d.password && access.hasPassword ? { password: null } : {}) },
          }));
          toast.show(t('library.access.saved'));
          onSaved(saved);
        }}>
          <fieldset className="lib-fieldset" aria-describedby="lib-audiences-hint">
            <legend>{t('library.access.audiences')}</legend>
            <p className="field-hint" id="lib-audiences-hint">{t('library.access.audiencesHint')}</p>
            <CheckboxField label={t('library.access.aud.public')} name="audiences" checked={d.public} onChange={(e) => set({ public: e.target.checked })} />
            <CheckboxField label={t('library.access.aud.link')} checked={d.link} onChange={(e) => set({ link: e.target.checked })} />
            <CheckboxField label={t('library.access.aud.members')} checked={d.members} onChange={(e) => set({ members: e.target.checked })} />
            {d.members ? (
              <fieldset className="lib-fieldset lib-nested">
                <legend>{t('library.access.rolesLegend')}</legend>
                {ROLES.map((r) => (
                  <CheckboxField key={r} label={t(`library.role.${r}`)} checked={d.roles.includes(r)}
                    onChange={(e) => set({ roles: e.target.checked ? [...d.roles, r] : d.roles.filter((x) => x !== r) })} />
                ))}
              </fieldset>
            ) : null}
            {d.members ? (
              <fieldset className="lib-fieldset lib-nested" aria-describedby="lib-groups-hint" data-testid="access-groups">
                <legend>{t('library.access.groupsLegend')}</legend>
                <p className="field-hint" id="lib-groups-hint">{t('library.access.groupsHint')}</p>
                {groups.error ? <ErrorView error={groups.error} onRetry={groups.reload} /> : !groups.data ? <Loading /> : (
                  <>
                    {groups.data.length === 0 ? <p>{t('library.access.noGroups')}</p> : null}
                    {groups.data.map((g) => (
                      <CheckboxField key={g.id} label={g.name} checked={d.groups.includes(g.id)}
                        onChange={(e) => set({ groups: e.target.checked ? [...d.groups, g.id] : d.groups.filter((x) => x !== g.id) })} />
                    ))}
                    {deletedGroups.map((id) => (
                      <CheckboxField key={id} label={t('library.access.deletedGroup')} checked
                        onChange={() => set({ groups: d.groups.filter((x) => x !== id) })} />
                    ))}
                  </>
                )}
              </fieldset>
            ) : null}
            <CheckboxField label={t('library.access.aud.password')} checked={d.password} onChange={(e) => set({ password: e.target.checked })} />
            {d.password ? (
              <TextField label={access.hasPassword ? t('library.access.changePassword') : t('library.access.password')} name="newPassword" type="password"
                autoComplete="new-password" value={d.newPassword} onChange={(e) => set({ newPassword: e.target.value })} maxLength={200}
                hint={access.hasPassword ? t('library.access.passwordKeep') : t('library.access.passwordHint')} />
            ) : null}
            <CheckboxField label={t('library.access.aud.sso')} checked={d.sso} onChange={(e) => set({ sso: e.target.checked })} />
            {d.sso ? <TextAreaField label={t('library.access.domains')} name="emailDomains" value={d.domains} rows={2} onChange={(e) => set({ domains: e.target.value })} hint={t('library.access.domainsHint')} /> : null}
          </fieldset>
          <fieldset className="lib-fieldset">
            <legend>{t('library.access.conditions')}</legend>
            <TextAreaField label={t('library.access.ipAllow')} name="ipAllow" rows={2} value={d.ipAllow} onChange={(e) => set({ ipAllow: e.target.value })} hint={t('library.access.ipHint')} />
            <TextAreaField label={t('library.access.referrers')} name="referrers" rows={2} value={d.referrers} onChange={(e) => set({ referrers: e.target.value })} hint={t('library.access.referrersHint')} />
            <div className="lib-row">
              <TextField label={t('library.access.from')} name="availableFrom" type="datetime-local" value={d.from} onChange={(e) => set({ from: e.target.value })} />
              <TextField label={t('library.access.until')} name="until" type="datetime-local" value={d.until} onChange={(e) => set({ until: e.target.value })} />
            </div>
            <CheckboxField label={t('library.access.bindToIp')} checked={d.bindToIp} onChange={(e) => set({ bindToIp: e.target.checked })} hint={t('library.access.bindHint')} />
          </fieldset>
        </Form>
      ) : null}
    </Section>
  );
}

function LinksSection({ video, canEdit }: { video: Video; canEdit: boolean }) {
  const t = useT();
  const format = useFormat();
  const toast = useToast();
  const errorText = useErrorText();
  const links = useAsync(() => call(api.GET('/api/v1/videos/{id}/links', { params: { path: { id: video.id } } })), [video.id]);
  const [label, setLabel] = useState('');
  const [expires, setExpires] = useState('');
  const [created, setCreated] = useState<CreatedLink | null>(null);
  const [revokeError, setRevokeError] = useState<string | null>(null);

  async function revoke(id: string) {
    setRevokeError(null);
    try {
      await call(api.DELETE('/api/v1/videos/{id}/links/{linkId}', { params: { path: { id: video.id, linkId: id } } }));
      toast.show(t('library.links.revoked'));
      links.reload();
    } catch (err) {
      setRevokeError(errorText(err));
    }
  }

  return (
    <Section title={t('library.links.title')}>
      <p className="field-hint">{t('library.links.hint')}</p>
      {links.error ? <ErrorView error={links.error} onRetry={links.reload} /> : !links.data ? <Loading /> : links.data.items.length === 0 ? (
        <p>{t('library.links.none')}</p>
      ) : (
        <div className="lib-table-wrap">
          <table className="lib-table">
            <caption className="visually-hidden">{t('library.links.title')}</caption>
            <thead><tr><th scope="col">{t('library.links.label')}</th><th scope="col">{t('library.links.state')}</th><th scope="col">{t('library.links.expires')}</th><th scope="col">{t('library.links.created')}</th><th scope="col"><span className="visually-hidden">{t('library.links.actions')}</span></th></tr></thead>
            <tbody>
              {links.data.items.map((l) => (
                <tr key={l.id}>
                  <td>{l.label || t('library.links.unnamed')}</td>
                  <td><span className={`lib-badge lib-link-${l.state}`}>{t(`library.links.stateName.${l.state}`)}</span></td>
                  <td>{l.expiresAt ? format.dateTime(l.expiresAt) : t('library.links.never')}</td>
                  <td>{format.dateTime(l.createdAt)}</td>
                  <td>{canEdit && l.state === 'active' ? <Button variant="danger" onClick={() => void revoke(l.id)}>{t('library.links.revoke')}<span className="visually-hidden"> {l.label}</span></Button> : null}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {revokeError ? <p className="alert alert-error" role="alert">{revokeError}</p> : null}
      {created ? (
        <div className="lib-created-link" role="status">
          <p>{t('library.links.shownOnce')}</p>
          <CopyField label={t('library.links.url')} value={new URL(created.url, location.origin).toString()} />
        </div>
      ) : null}
      {canEdit ? (
        <Form label={t('library.links.create')} submitLabel={t('library.links.create')}
          validate={() => ({ expiresAt: expires && Date.parse(expires) <= Date.now() ? t('library.links.expiryPast') : undefined })}
          onSubmit={async () => {
            const link = await call(api.POST('/api/v1/videos/{id}/links', {
              params: { path: { id: video.id } },
              body: { ...(label.trim() ? { label: label.trim() } : {}), ...(expires ? { expiresAt: new Date(expires).toISOString() } : {}) },
            }));
            setCreated(link);
            setLabel('');
            setExpires('');
            links.reload();
          }}>
          <div className="lib-row">
            <TextField label={t('library.links.label')} name="label" value={label} onChange={(e) => setLabel(e.target.value)} maxLength={200} />
            <TextField label={t('library.links.expiresAt')} name="expiresAt" type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />
          </div>
        </Form>
      ) : null}
    </Section>
  );
}
