// Single sign-on providers and the transfer bases that let one outside the
// organization's jurisdiction be turned on. A refusal for want of a basis
// (409 transfer_basis_required) is shown with what is missing and where to
// record it.
import { useState } from 'react';
import { api, ApiError, call } from '../../../api/client.ts';
import { errorText, useFormat, useT } from '../../../app/i18n.tsx';
import { Button } from '../../../ui/Button.tsx';
import { Form } from '../../../ui/Form.tsx';
import { CheckboxField, SelectField, TextField } from '../../../ui/fields.tsx';
import { Section } from '../../../ui/Page.tsx';
import { ConfirmButton } from './Confirm.tsx';
import { Failure, Loading, Notice } from './layout.tsx';
import { asApiError, useResource } from '../use-resource.ts';

const presets = ['entra', 'google', 'generic'] as const;
const ssoRoles = ['admin', 'editor', 'viewer'] as const;
const bases = ['scc', 'adequacy', 'bcr', 'consent'] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$/;
const domainList = (v: string) => v.split(/[\s,]+/).map((d) => d.trim().toLowerCase()).filter(Boolean);

type T = ReturnType<typeof useT>;

/** The refusal in the UI's words, or undefined for any other error. */
export function transferRefusal(err: unknown, t: T): string | undefined {
  if (!(err instanceof ApiError) || err.code !== 'transfer_basis_required') return undefined;
  const d = (err.details ?? {}) as { subprocessor?: string; subprocessorJurisdiction?: string; tenantJurisdiction?: string };
  return t('admin.sso.transferRequired', { subprocessor: d.subprocessor ?? '?', to: d.subprocessorJurisdiction ?? '?', from: d.tenantJurisdiction ?? '?' });
}

interface ProviderForm { name: string; preset: (typeof presets)[number]; issuer: string; directoryId: string; clientId: string; clientSecret: string; domains: string; defaultRole: (typeof ssoRoles)[number]; enabled: boolean }
const emptyForm: ProviderForm = { name: '', preset: 'generic', issuer: '', directoryId: '', clientId: '', clientSecret: '', domains: '', defaultRole: 'viewer', enabled: true };

export function SsoProviders() {
  const t = useT();
  const providers = useResource(() => call(api.GET('/api/v1/sso/providers')), []);
  const [editing, setEditing] = useState<string | 'new' | null>(null);
  const [form, setForm] = useState<ProviderForm>(emptyForm);
  const [refusal, setRefusal] = useState<string | null>(null);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);

  const guard = async (work: () => Promise<void>) => {
    setRefusal(null);
    try {
      await work();
    } catch (err) {
      const r = transferRefusal(err, t);
      if (!r) throw err;
      setRefusal(r);
    }
  };
  const validate = () => ({
    name: form.name.trim() ? undefined : t('admin.error.required'),
    issuer: form.preset === 'generic' && editing === 'new' && !/^https:\/\/\S+$/.test(form.issuer.trim()) ? t('admin.sso.error.issuer') : undefined,
    directoryId: form.preset === 'entra' && editing === 'new' && !UUID.test(form.directoryId.trim()) ? t('admin.sso.error.directoryId') : undefined,
    clientId: form.clientId.trim() ? undefined : t('admin.error.required'),
    clientSecret: editing === 'new' && !form.clientSecret ? t('admin.error.required') : undefined,
    allowedDomains: domainList(form.domains).every((d) => DOMAIN.test(d)) ? undefined : t('admin.error.domains'),
  });

  return (
    <Section title={t('admin.sso.title')} actions={editing === null ? <Button onClick={() => { setForm(emptyForm); setEditing('new'); setRefusal(null); }}>{t('admin.sso.add')}</Button> : undefined}>
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      {refusal && <Notice kind="error" testId="transfer-refusal">{refusal} <a href="#transfer-bases">{t('admin.sso.recordBasis')}</a></Notice>}
      {providers.loading && <Loading />}
      {providers.error && <Failure error={providers.error} retry={providers.reload} />}
      {providers.data && providers.data.items.length === 0 && <p>{t('admin.sso.none')}</p>}
      {providers.data && providers.data.items.length > 0 && (
        <div className="admin-table-wrap" tabIndex={0} role="region" aria-label={t('admin.sso.title')}>
          <table className="admin-table">
            <thead><tr>
              <th scope="col">{t('admin.sso.name')}</th><th scope="col">{t('admin.sso.preset')}</th><th scope="col">{t('admin.sso.issuer')}</th>
              <th scope="col">{t('admin.sso.state')}</th><th scope="col">{t('admin.users.col.actions')}</th>
            </tr></thead>
            <tbody>
              {providers.data.items.map((p) => (
                <tr key={p.id}>
                  <td id={`sso-${p.id}`}>{p.name}<br /><span className="admin-muted">{t('admin.sso.redirectUri')}: <code>{p.redirectUri}</code></span></td>
                  <td>{t(`admin.sso.preset.${p.preset}`)}</td>
                  <td><code>{p.issuer}</code></td>
                  <td><span className={`admin-badge admin-badge-${p.enabled ? 'active' : 'disabled'}`}>{p.enabled ? t('admin.enabled') : t('admin.disabledState')}</span></td>
                  <td>
                    <span className="admin-actions">
                      <Button variant="ghost" aria-describedby={`sso-${p.id}`} onClick={() => {
                        setMessage(null);
                        void guard(async () => {
                          const updated = await call(api.PATCH('/api/v1/sso/providers/{id}', { params: { path: { id: p.id } }, body: { enabled: !p.enabled } }));
                          providers.set((d) => d && { items: d.items.map((x) => (x.id === p.id ? updated : x)) });
                          setMessage({ kind: 'ok', text: t(updated.enabled ? 'admin.sso.enabledNow' : 'admin.sso.disabledNow', { name: p.name }) });
                        }).catch((err: unknown) => setMessage({ kind: 'error', text: errorText(asApiError(err)) }));
                      }}>{p.enabled ? t('admin.disable') : t('admin.enable')}</Button>
                      <Button variant="ghost" aria-describedby={`sso-${p.id}`} onClick={() => {
                        setForm({ ...emptyForm, name: p.name, preset: p.preset, clientId: p.clientId, domains: p.allowedDomains.join(', '), defaultRole: p.defaultRole, enabled: p.enabled });
                        setEditing(p.id);
                        setRefusal(null);
                      }}>{t('admin.edit')}</Button>
                      <ConfirmButton label={t('admin.remove')} confirmLabel={t('admin.sso.confirmRemove')} describedBy={`sso-${p.id}`} onConfirm={async () => {
                        try {
                          await call(api.DELETE('/api/v1/sso/providers/{id}', { params: { path: { id: p.id } } }));
                          providers.reload();
                        } catch (err) { setMessage({ kind: 'error', text: errorText(asApiError(err)) }); }
                      }} />
                    </span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {editing !== null && (
        <Form label={editing === 'new' ? t('admin.sso.add') : t('admin.sso.edit')} submitLabel={t('admin.save')} className="admin-grid" validate={validate}
          secondary={<Button variant="ghost" onClick={() => setEditing(null)}>{t('admin.cancel')}</Button>}
          onSubmit={() => guard(async () => {
            const common = { name: form.name.trim(), clientId: form.clientId.trim(), allowedDomains: domainList(form.domains), defaultRole: form.defaultRole, enabled: form.enabled };
            if (editing === 'new') {
              await call(api.POST('/api/v1/sso/providers', {
                body: {
                  ...common, preset: form.preset, clientSecret: form.clientSecret, roleMapping: null,
                  ...(form.preset === 'generic' ? { issuer: form.issuer.trim() } : {}), ...(form.preset === 'entra' ? { directoryId: form.directoryId.trim() } : {}),
                },
              }));
            } else {
              await call(api.PATCH('/api/v1/sso/providers/{id}', { params: { path: { id: editing } }, body: { ...common, ...(form.clientSecret ? { clientSecret: form.clientSecret } : {}) } }));
            }
            setEditing(null);
            providers.reload();
            setMessage({ kind: 'ok', text: t('admin.sso.saved', { name: form.name.trim() }) });
          })}>
          <TextField label={t('admin.sso.name')} name="name" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
          {editing === 'new' && (
            <SelectField label={t('admin.sso.preset')} name="preset" value={form.preset} onChange={(e) => setForm({ ...form, preset: e.target.value as ProviderForm['preset'] })}
              options={presets.map((p) => ({ value: p, label: t(`admin.sso.preset.${p}`) }))} />
          )}
          {editing === 'new' && form.preset === 'generic' && <TextField label={t('admin.sso.issuer')} name="issuer" type="url" value={form.issuer} placeholder="https://" onChange={(e) => setForm({ ...form, issuer: e.target.value })} />}
          {editing === 'new' && form.preset === 'entra' && <TextField label={t('admin.sso.directoryId')} name="directoryId" value={form.directoryId} onChange={(e) => setForm({ ...form, directoryId: e.target.value })} />}
          <TextField label={t('admin.sso.clientId')} name="clientId" value={form.clientId} onChange={(e) => setForm({ ...form, clientId: e.target.value })} />
          <TextField label={t('admin.sso.clientSecret')} name="clientSecret" type="password" autoComplete="new-password" value={form.clientSecret}
            hint={editing === 'new' ? undefined : t('admin.sso.secretHint')} onChange={(e) => setForm({ ...form, clientSecret: e.target.value })} />
          <TextField label={t('admin.settings.domains')} name="allowedDomains" value={form.domains} hint={t('admin.settings.domainsHint')} onChange={(e) => setForm({ ...form, domains: e.target.value })} />
          <SelectField label={t('admin.sso.defaultRole')} name="defaultRole" value={form.defaultRole} onChange={(e) => setForm({ ...form, defaultRole: e.target.value as ProviderForm['defaultRole'] })}
            options={ssoRoles.map((r) => ({ value: r, label: t(`admin.role.${r}`) }))} />
          <CheckboxField label={t('admin.sso.enabled')} name="enabled" checked={form.enabled} onChange={(e) => setForm({ ...form, enabled: e.target.checked })} />
        </Form>
      )}
    </Section>
  );
}

export function TransferBases() {
  const t = useT();
  const fmt = useFormat();
  const transfers = useResource(() => call(api.GET('/api/v1/privacy/transfers')), []);
  const [f, setF] = useState({ subprocessor: '', basis: 'scc' as (typeof bases)[number], note: '' });
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const uncovered = transfers.data?.abroad.filter((a) => a.basis === null) ?? [];
  return (
    <div id="transfer-bases">
      <Section title={t('admin.transfers.title')}>
        <p className="admin-muted">{t('admin.transfers.intro')}</p>
        {message && <Notice kind={message.kind}>{message.text}</Notice>}
        {transfers.loading && <Loading />}
        {transfers.error && <Failure error={transfers.error} retry={transfers.reload} />}
        {transfers.data && transfers.data.abroad.length === 0 && <p>{t('admin.transfers.noneAbroad')}</p>}
        {transfers.data && transfers.data.abroad.length > 0 && (
          <div className="admin-table-wrap" tabIndex={0} role="region" aria-label={t('admin.transfers.abroad')}>
            <table className="admin-table">
              <caption className="admin-muted">{t('admin.transfers.abroad')}</caption>
              <thead><tr><th scope="col">{t('admin.transfers.subprocessor')}</th><th scope="col">{t('admin.transfers.jurisdiction')}</th><th scope="col">{t('admin.transfers.features')}</th><th scope="col">{t('admin.transfers.basis')}</th></tr></thead>
              <tbody>
                {transfers.data.abroad.map((a) => (
                  <tr key={a.subprocessor}>
                    <td>{a.subprocessor}</td><td>{a.jurisdiction}</td><td>{a.features.join(', ')}</td>
                    <td>{a.basis ? `${t(`admin.transfers.basis.${a.basis}`)} (${t(`admin.transfers.source.${a.basisSource ?? 'tenant'}`)})` : <span className="admin-badge admin-badge-basis_required">{t('admin.transfers.missing')}</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {transfers.data && transfers.data.items.length > 0 && (
          <ul className="admin-list">
            {transfers.data.items.map((b) => (
              <li key={b.id}>
                <span id={`basis-${b.id}`}>{b.subprocessor}: {t(`admin.transfers.basis.${b.basis}`)}{b.note ? ` — ${b.note}` : ''} ({fmt.date(b.createdAt)})</span>{' '}
                <ConfirmButton label={t('admin.transfers.withdraw')} confirmLabel={t('admin.transfers.confirmWithdraw')} describedBy={`basis-${b.id}`} onConfirm={async () => {
                  try {
                    await call(api.DELETE('/api/v1/privacy/transfers/{id}', { params: { path: { id: b.id } } }));
                    transfers.reload();
                  } catch (err) { setMessage({ kind: 'error', text: errorText(asApiError(err)) }); }
                }} />
              </li>
            ))}
          </ul>
        )}
        {transfers.data && uncovered.length > 0 && (
          <Form label={t('admin.transfers.add')} submitLabel={t('admin.transfers.add')} className="admin-grid"
            validate={() => ({ subprocessor: f.subprocessor ? undefined : t('admin.error.required') })}
            onSubmit={async () => {
              await call(api.POST('/api/v1/privacy/transfers', { body: { subprocessor: f.subprocessor, basis: f.basis, note: f.note.trim() } }));
              setMessage({ kind: 'ok', text: t('admin.transfers.added', { subprocessor: f.subprocessor }) });
              setF({ ...f, subprocessor: '', note: '' });
              transfers.reload();
            }}>
            <SelectField label={t('admin.transfers.subprocessor')} name="subprocessor" value={f.subprocessor} onChange={(e) => setF({ ...f, subprocessor: e.target.value })}
              options={[{ value: '', label: t('admin.choose') }, ...uncovered.map((a) => ({ value: a.subprocessor, label: `${a.subprocessor} (${a.jurisdiction})` }))]} />
            <SelectField label={t('admin.transfers.basis')} name="basis" value={f.basis} onChange={(e) => setF({ ...f, basis: e.target.value as (typeof bases)[number] })}
              options={bases.map((b) => ({ value: b, label: t(`admin.transfers.basis.${b}`) }))} />
            <TextField label={t('admin.transfers.note')} name="note" value={f.note} hint={t('admin.transfers.noteHint')} onChange={(e) => setF({ ...f, note: e.target.value })} />
          </Form>
        )}
      </Section>
    </div>
  );
}
