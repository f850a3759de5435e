// People and roles: change a role, disable, remove (to the trash) and
// restore; invite by email, resend and withdraw invitations.
import { useState } from 'react';
import { api, call } from '../../../api/client.ts';
import { errorText, useFormat, useT } from '../../../app/i18n.tsx';
import { useSession } from '../../../app/session.tsx';
import { Button } from '../../../ui/Button.tsx';
import { Form } from '../../../ui/Form.tsx';
import { SelectField, TextField } from '../../../ui/fields.tsx';
import { Section } from '../../../ui/Page.tsx';
import { ConfirmButton } from '../components/Confirm.tsx';
import { AdminPage, Failure, Loading, Notice } from '../components/layout.tsx';
import { asApiError, useResource } from '../use-resource.ts';
import '../admin.css';

const roles = ['owner', 'admin', 'editor', 'viewer'] as const;
const languages = ['en', 'sv', 'fi', 'de'] as const;
type Role = (typeof roles)[number];
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export default function UsersPage() {
  const t = useT();
  const fmt = useFormat();
  const { user, role: myRole } = useSession();
  const people = useResource(() => call(api.GET('/api/v1/users')), []);
  const invitations = useResource(() => call(api.GET('/api/v1/invitations')), []);
  const trash = useResource(() => call(api.GET('/api/v1/trash', { params: { query: { type: 'user', limit: 100 } } })), []);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);

  const act = async (work: () => Promise<unknown>, done: string) => {
    setMessage(null);
    try {
      await work();
      setMessage({ kind: 'ok', text: done });
    } catch (err) {
      setMessage({ kind: 'error', text: errorText(asApiError(err)) });
    }
  };
  const roleOptions = roles.filter((r) => r !== 'owner' || myRole === 'owner');

  const [invite, setInvite] = useState({ email: '', role: 'viewer' as Role, language: 'en' as (typeof languages)[number] });

  return (
    <AdminPage title={t('admin.users.title')} intro={t('admin.users.intro')}>
      {message && <Notice kind={message.kind}>{message.text}</Notice>}

      <Section title={t('admin.users.people')}>
        {people.loading && <Loading />}
        {people.error && <Failure error={people.error} retry={people.reload} />}
        {people.data && (
          <div className="admin-table-wrap" tabIndex={0} role="region" aria-label={t('admin.users.people')}>
            <table className="admin-table" data-testid="people-table">
              <thead><tr>
                <th scope="col">{t('admin.users.col.person')}</th><th scope="col">{t('admin.users.col.role')}</th><th scope="col">{t('admin.users.col.status')}</th>
                <th scope="col">{t('admin.users.col.twoFactor')}</th><th scope="col">{t('admin.users.col.since')}</th><th scope="col">{t('admin.users.col.actions')}</th>
              </tr></thead>
              <tbody>
                {people.data.items.map((p) => {
                  const me = p.id === user?.id;
                  const nameId = `person-${p.id}`;
                  return (
                    <tr key={p.id}>
                      <td id={nameId}><strong>{p.displayName || p.username}</strong><br /><span className="admin-muted">{p.email}</span></td>
                      <td>
                        <select aria-label={t('admin.users.roleOf', { name: p.email })} value={p.role} disabled={me || (p.role === 'owner' && myRole !== 'owner')}
                          onChange={(e) => act(async () => {
                            const updated = await call(api.PATCH('/api/v1/users/{id}', { params: { path: { id: p.id } }, body: { role: e.target.value as Role } }));
                            people.set((d) => d && { items: d.items.map((x) => (x.id === p.id ? updated : x)) });
                          }, t('admin.users.roleChanged', { name: p.email, role: t(`admin.role.${e.target.value}`) }))}>
                          {(p.role === 'owner' && myRole !== 'owner' ? roles : roleOptions).map((r) => <option key={r} value={r}>{t(`admin.role.${r}`)}</option>)}
                        </select>
                      </td>
                      <td><span className={`admin-badge admin-badge-${p.status}`}>{t(`admin.users.status.${p.status}`)}</span></td>
                      <td>{p.twoFactor ? t('admin.yes') : t('admin.no')}</td>
                      <td>{fmt.date(p.memberSince)}</td>
                      <td>
                        {!me && (
                          <span className="admin-actions">
                            <Button variant="ghost" aria-describedby={nameId} onClick={() => act(async () => {
                              const updated = await call(api.PATCH('/api/v1/users/{id}', { params: { path: { id: p.id } }, body: { status: p.status === 'disabled' ? 'active' : 'disabled' } }));
                              people.set((d) => d && { items: d.items.map((x) => (x.id === p.id ? updated : x)) });
                            }, t(p.status === 'disabled' ? 'admin.users.enabled' : 'admin.users.disabled', { name: p.email }))}>
                              {p.status === 'disabled' ? t('admin.users.enable') : t('admin.users.disable')}
                            </Button>
                            <ConfirmButton label={t('admin.users.remove')} confirmLabel={t('admin.users.confirmRemove')} describedBy={nameId} onConfirm={() => act(async () => {
                              await call(api.DELETE('/api/v1/users/{id}', { params: { path: { id: p.id } } }));
                              people.reload();
                              trash.reload();
                            }, t('admin.users.removed', { name: p.email }))} />
                          </span>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Section>

      <Section title={t('admin.users.removedPeople')}>
        <p className="admin-muted">{t('admin.users.removedIntro')}</p>
        {trash.loading && <Loading />}
        {trash.error && <Failure error={trash.error} retry={trash.reload} />}
        {trash.data && trash.data.items.length === 0 && <p>{t('admin.users.noneRemoved')}</p>}
        {trash.data && trash.data.items.length > 0 && (
          <ul className="admin-list" data-testid="removed-people">
            {trash.data.items.map((item) => (
              <li key={item.id}>
                <span id={`trash-${item.id}`}>{item.name}</span> — {t('admin.users.purgeAfter', { date: fmt.date(item.purgeAfter) })}{' '}
                {!item.purging && (
                  <Button variant="ghost" aria-describedby={`trash-${item.id}`} onClick={() => act(async () => {
                    await call(api.POST('/api/v1/trash/{type}/{id}/restore', { params: { path: { type: 'user', id: item.id } } }));
                    trash.reload();
                    people.reload();
                  }, t('admin.users.restored', { name: item.name }))}>{t('admin.users.restore')}</Button>
                )}
              </li>
            ))}
          </ul>
        )}
      </Section>

      <Section title={t('admin.invitations.title')}>
        <Form label={t('admin.invitations.new')} submitLabel={t('admin.invitations.send')} className="admin-grid"
          validate={() => ({ email: EMAIL.test(invite.email.trim()) ? undefined : t('admin.error.email') })}
          onSubmit={async () => {
            const created = await call(api.POST('/api/v1/invitations', { body: { email: invite.email.trim(), role: invite.role, language: invite.language } }));
            invitations.set((d) => d && { items: [created, ...d.items.filter((i) => i.id !== created.id)] });
            setMessage({ kind: 'ok', text: t('admin.invitations.sent', { email: created.email }) });
            setInvite({ ...invite, email: '' });
          }}>
          <TextField label={t('admin.invitations.email')} name="email" type="email" autoComplete="off" value={invite.email} onChange={(e) => setInvite({ ...invite, email: e.target.value })} />
          <SelectField label={t('admin.invitations.role')} name="role" value={invite.role} onChange={(e) => setInvite({ ...invite, role: e.target.value as Role })}
            options={roleOptions.map((r) => ({ value: r, label: t(`admin.role.${r}`) }))} />
          <SelectField label={t('admin.invitations.language')} name="language" value={invite.language} onChange={(e) => setInvite({ ...invite, language: e.target.value as (typeof languages)[number] })}
            options={languages.map((l) => ({ value: l, label: t(`admin.language.${l}`) }))} />
        </Form>
        {invitations.loading && <Loading />}
        {invitations.error && <Failure error={invitations.error} retry={invitations.reload} />}
        {invitations.data && invitations.data.items.length === 0 && <p>{t('admin.invitations.none')}</p>}
        {invitations.data && invitations.data.items.length > 0 && (
          <div className="admin-table-wrap" tabIndex={0} role="region" aria-label={t('admin.invitations.title')}>
            <table className="admin-table" data-testid="invitations-table">
              <thead><tr>
                <th scope="col">{t('admin.invitations.email')}</th><th scope="col">{t('admin.invitations.role')}</th><th scope="col">{t('admin.users.col.status')}</th>
                <th scope="col">{t('admin.invitations.expires')}</th><th scope="col">{t('admin.users.col.actions')}</th>
              </tr></thead>
              <tbody>
                {invitations.data.items.map((inv) => (
                  <tr key={inv.id}>
                    <td id={`inv-${inv.id}`}>{inv.email}</td>
                    <td>{t(`admin.role.${inv.role}`)}</td>
                    <td><span className={`admin-badge admin-badge-${inv.status}`}>{t(`admin.invitations.status.${inv.status}`)}</span></td>
                    <td>{fmt.dateTime(inv.expiresAt)}</td>
                    <td>
                      {(inv.status === 'pending' || inv.status === 'expired') && (
                        <span className="admin-actions">
                          <Button variant="ghost" aria-describedby={`inv-${inv.id}`} onClick={() => act(async () => {
                            const updated = await call(api.POST('/api/v1/invitations/{id}/resend', { params: { path: { id: inv.id } } }));
                            invitations.set((d) => d && { items: d.items.map((x) => (x.id === inv.id ? updated : x)) });
                          }, t('admin.invitations.resent', { email: inv.email }))}>{t('admin.invitations.resend')}</Button>
                          {inv.status === 'pending' && (
                            <ConfirmButton label={t('admin.invitations.revoke')} confirmLabel={t('admin.invitations.confirmRevoke')} describedBy={`inv-${inv.id}`} onConfirm={() => act(async () => {
                              await call(api.DELETE('/api/v1/invitations/{id}', { params: { path: { id: inv.id } } }));
                              invitations.reload();
                            }, t('admin.invitations.revoked', { email: inv.email }))} />
                          )}
                        </span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
    </AdminPage>
  );
}
