// API tokens for integrations: create with scopes and an expiry (the secret
// is shown once), list, revoke.
import { useState } from 'react';
import { api, call } from '../../../api/client.ts';
import type { ResponseOf } from '../../../api/types.ts';
import { errorText, useFormat, useT } from '../../../app/i18n.tsx';
import { useSession } from '../../../app/session.tsx';
import { Button, CheckboxField, DataTable, Dialog, EmptyState, ErrorView, Form, Loading, Page, Section, SelectField, TextField, useAsync, useToast } from '../../../ui/index.ts';
import { CopyButton } from '../components/CopyButton.tsx';
import '../account.css';

type Token = ResponseOf<'/api/v1/account/tokens'>['items'][number];
type Created = ResponseOf<'/api/v1/account/tokens', 'post'>;

export const tokenScopes = ['videos:read', 'videos:write', 'analytics:read', 'audit:read', 'users:read', 'users:write', 'privacy:read'] as const;
type Scope = (typeof tokenScopes)[number];
const expiryChoices = [7, 30, 90, 180, 365];

function tokenState(tk: Token, now: number): 'active' | 'revoked' | 'expired' {
  if (tk.revoked_at) return 'revoked';
  return new Date(tk.expires_at).getTime() <= now ? 'expired' : 'active';
}

export default function TokensPage() {
  const t = useT();
  const fmt = useFormat();
  const toast = useToast();
  const { tenant } = useSession();
  const tokens = useAsync(() => call(api.GET('/api/v1/account/tokens')), []);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Set<Scope>>(new Set(['videos:read']));
  const [days, setDays] = useState(90);
  const [created, setCreated] = useState<Created | null>(null);
  const [revoking, setRevoking] = useState<Token | null>(null);
  const [formKey, setFormKey] = useState(0);

  function toggle(scope: Scope, on: boolean) {
    setScopes((s) => { const n = new Set(s); if (on) n.add(scope); else n.delete(scope); return n; });
  }

  async function revoke(tk: Token) {
    setRevoking(null);
    try {
      await call(api.DELETE('/api/v1/account/tokens/{id}', { params: { path: { id: tk.id } } }));
      toast.show(t('account.tokens.revoked', { name: tk.name }));
      tokens.reload();
    } catch (err) {
      toast.show(errorText(err), 'error');
    }
  }

  const now = Date.now();
  return (
    <Page title={t('account.tokens.title')} description={t('account.tokens.description', { organization: tenant?.name ?? '' })} className="account-page">
      <Section title={t('account.tokens.create_title')}>
        <Form
          key={formKey}
          label={t('account.tokens.create_title')}
          submitLabel={t('account.tokens.create')}
          validate={() => ({
            name: !name.trim() ? t('account.form.required') : name.trim().length > 100 ? t('account.form.too_long', { max: 100 }) : undefined,
            scopes: scopes.size === 0 ? t('account.tokens.scope_required') : undefined,
          })}
          onSubmit={async () => {
            const result = await call(api.POST('/api/v1/account/tokens', { body: { name: name.trim(), scopes: tokenScopes.filter((s) => scopes.has(s)), expiresInDays: days } }));
            setCreated(result);
            setName('');
            setScopes(new Set(['videos:read']));
            setFormKey((k) => k + 1);
            tokens.reload();
          }}
        >
          <TextField label={t('account.tokens.name')} name="name" value={name} maxLength={100} onChange={(e) => setName(e.target.value)} hint={t('account.tokens.name_hint')} />
          <fieldset className="account-fieldset" aria-describedby="token-scopes-hint">
            <legend className="field-label">{t('account.tokens.scopes')}</legend>
            <p className="field-hint" id="token-scopes-hint">{t('account.tokens.scopes_hint')}</p>
            <div className="account-scopes">
              {tokenScopes.map((s) => (
                <CheckboxField key={s} name={s === tokenScopes[0] ? 'scopes' : undefined} label={t(`account.tokens.scope.${s}`)} hint={s} checked={scopes.has(s)} onChange={(e) => toggle(s, e.target.checked)} />
              ))}
            </div>
            {scopes.size === 0 ? <p className="field-error">{t('account.tokens.scope_required')}</p> : null}
          </fieldset>
          <SelectField label={t('account.tokens.expiry')} name="expiresInDays" value={String(days)} onChange={(e) => setDays(Number(e.target.value))}
            options={expiryChoices.map((d) => ({ value: String(d), label: t('account.tokens.days', { days: d }) }))} />
        </Form>
      </Section>

      <Section title={t('account.tokens.list_title')}>
        {tokens.error ? <ErrorView error={tokens.error} onRetry={tokens.reload} /> : !tokens.data ? <Loading /> : tokens.data.items.length === 0 ? (
          <EmptyState title={t('account.tokens.none')} icon="key" />
        ) : (
          <DataTable
            caption={t('account.tokens.list_title')}
            captionHidden
            rows={tokens.data.items}
            rowKey={(tk) => tk.id}
            columns={[
              { key: 'name', header: t('account.tokens.name'), render: (tk) => tk.name },
              { key: 'scopes', header: t('account.tokens.scopes'), render: (tk) => <span className="account-chips">{tk.scopes.map((s) => <code key={s}>{s}</code>)}</span> },
              { key: 'state', header: t('account.tokens.state'), render: (tk) => {
                const st = tokenState(tk, now);
                return <span className={`badge ${st === 'active' ? 'badge-success' : 'badge-danger'}`}>{t(`account.tokens.state.${st}`)}</span>;
              } },
              { key: 'expires', header: t('account.tokens.expires'), render: (tk) => fmt.date(tk.expires_at) },
              { key: 'used', header: t('account.tokens.last_used'), render: (tk) => (tk.last_used_at ? fmt.dateTime(tk.last_used_at) : t('account.passkeys.never')) },
              { key: 'actions', header: t('account.table.actions'), render: (tk) => tokenState(tk, now) === 'active' ? (
                <Button variant="danger" onClick={() => setRevoking(tk)} aria-label={t('account.tokens.revoke_label', { name: tk.name })}>{t('account.tokens.revoke')}</Button>
              ) : null },
            ]}
          />
        )}
      </Section>

      <Dialog open={created !== null} title={t('account.tokens.created_title')} onClose={() => setCreated(null)} actions={<Button variant="primary" onClick={() => setCreated(null)}>{t('account.action.done')}</Button>}>
        {created ? (
          <div className="stack">
            <p className="alert alert-warning">{t('account.tokens.shown_once')}</p>
            <code className="account-secret" id="created-token">{created.token}</code>
            <div><CopyButton text={created.token} label={t('account.tokens.copy')} /></div>
            <p className="muted">{t('account.tokens.usage')}</p>
          </div>
        ) : null}
      </Dialog>

      <Dialog open={revoking !== null} title={t('account.tokens.revoke_title')} onClose={() => setRevoking(null)} size="small"
        actions={<>
          <Button onClick={() => setRevoking(null)}>{t('account.action.cancel')}</Button>
          <Button variant="danger" onClick={() => revoking && void revoke(revoking)}>{t('account.tokens.revoke')}</Button>
        </>}>
        <p>{t('account.tokens.revoke_body', { name: revoking?.name ?? '' })}</p>
      </Dialog>
    </Page>
  );
}
