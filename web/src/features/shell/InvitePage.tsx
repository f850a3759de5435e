// The invitation link's target (/invite#token=…): shows what the invitation
// offers, and accepts it — a new person chooses a username and password, an
// existing account confirms with its password. Accepting signs in.
import { useMemo, useState } from 'react';
import { useNavigate } from 'react-router';
import { api, ApiError, call } from '../../api/client.ts';
import { useFormat, useLanguage, useT } from '../../app/i18n.tsx';
import { useSession } from '../../app/session.tsx';
import { ErrorView, Form, Loading, Page, TextField, useAsync } from '../../ui/index.ts';
import { tokenFromHash } from './ResetPasswordPage.tsx';

export default function InvitePage() {
  const t = useT();
  const fmt = useFormat();
  const { language } = useLanguage();
  const session = useSession();
  const navigate = useNavigate();
  const token = useMemo(tokenFromHash, []);
  const invitation = useAsync(async () => {
    if (!token) throw new ApiError(404, 'invitation_not_found', 'No invitation token in the link.');
    return call(api.GET('/api/v1/invitations/lookup', { params: { query: { token } } }));
  }, [token]);
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');

  if (invitation.loading) return <Loading />;
  if (invitation.error || !invitation.data) {
    const retry = !(invitation.error instanceof ApiError) || invitation.error.retryable;
    return <Page title={t('shell.invite.title', { tenant: 'Haven' })}><ErrorView error={invitation.error} onRetry={retry ? invitation.reload : undefined} /></Page>;
  }
  const inv = invitation.data;
  const existing = inv.accountExists;
  return (
    <Page title={t('shell.invite.title', { tenant: inv.tenant.name })}>
      <div className="auth-card">
        <p>{t('shell.invite.intro', { tenant: inv.tenant.name, role: t(`shell.role.${inv.role}`), email: inv.email })}</p>
        <p className="muted">{t('shell.invite.expires', { date: fmt.dateTime(inv.expiresAt) })}</p>
        {existing ? <p>{t('shell.invite.existing')}</p> : null}
        <Form
          label={t('shell.invite.accept')}
          submitLabel={t('shell.invite.accept')}
          validate={() => ({
            username: !existing && !/^[A-Za-z0-9._-]{2,64}$/.test(username) ? t('shell.invite.usernameHint') : undefined,
            password: existing ? (password ? undefined : t('shell.signIn.passwordRequired')) : password.length < 12 ? t('shell.reset.tooShort') : undefined,
          })}
          onSubmit={async () => {
            const s = await call(api.POST('/api/v1/invitations/accept', {
              body: existing
                ? { token: token!, password, ...(totp.trim() ? { totp: totp.trim() } : {}) }
                : { token: token!, password, username, displayName: displayName.trim() || undefined, language },
            }));
            history.replaceState(null, '', location.pathname);
            session.signedIn(s);
            navigate('/', { replace: true });
          }}
        >
          {existing ? null : (
            <>
              <TextField label={t('shell.invite.username')} hint={t('shell.invite.usernameHint')} name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} maxLength={64} />
              <TextField label={t('shell.invite.displayName')} name="displayName" autoComplete="name" value={displayName} onChange={(e) => setDisplayName(e.target.value)} maxLength={200} />
            </>
          )}
          <TextField
            label={existing ? t('shell.invite.existingPassword') : t('shell.invite.password')}
            hint={existing ? undefined : t('shell.reset.newPasswordHint')}
            name="password"
            type="password"
            autoComplete={existing ? 'current-password' : 'new-password'}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            maxLength={1024}
          />
          {existing ? <TextField label={t('shell.reset.totpOptional')} name="totp" autoComplete="one-time-code" value={totp} onChange={(e) => setTotp(e.target.value)} maxLength={32} /> : null}
        </Form>
      </div>
    </Page>
  );
}
