// Password reset: ask for a link; the emailed link (/reset-password#token=…)
// opens the same page to choose the new password.
import { useMemo, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { api, call } from '../../api/client.ts';
import { useT } from '../../app/i18n.tsx';
import { Form, Page, TextField, useToast } from '../../ui/index.ts';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function tokenFromHash(): string | null {
  return new URLSearchParams(location.hash.replace(/^#/, '')).get('token');
}

export default function ResetPasswordPage() {
  const token = useMemo(tokenFromHash, []);
  return token ? <ChooseNewPassword token={token} /> : <RequestLink />;
}

function RequestLink() {
  const t = useT();
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState(false);
  return (
    <Page title={t('shell.reset.title')} description={t('shell.reset.intro')}>
      <div className="auth-card">
        {sent ? <p className="alert alert-success" role="status">{t('shell.reset.sent')}</p> : (
          <Form
            label={t('shell.reset.title')}
            submitLabel={t('shell.reset.submit')}
            validate={() => ({ email: !email.trim() ? t('shell.signIn.emailRequired') : !EMAIL.test(email.trim()) ? t('shell.signIn.emailInvalid') : undefined })}
            onSubmit={async () => { await call(api.POST('/api/v1/auth/password-reset', { body: { email: email.trim() } })); setSent(true); }}
          >
            <TextField label={t('shell.signIn.email')} name="email" type="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} maxLength={320} />
          </Form>
        )}
        <Link to="/sign-in">{t('shell.reset.back')}</Link>
      </div>
    </Page>
  );
}

function ChooseNewPassword({ token }: { token: string }) {
  const t = useT();
  const toast = useToast();
  const navigate = useNavigate();
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [totp, setTotp] = useState('');
  return (
    <Page title={t('shell.reset.newTitle')}>
      <div className="auth-card">
        <Form
          label={t('shell.reset.newTitle')}
          submitLabel={t('shell.reset.save')}
          validate={() => ({
            password: password.length < 12 ? t('shell.reset.tooShort') : undefined,
            repeat: repeat !== password ? t('shell.reset.mismatch') : undefined,
          })}
          onSubmit={async () => {
            await call(api.POST('/api/v1/auth/password-reset/confirm', { body: { token, password, ...(totp.trim() ? { totp: totp.replace(/\s+/g, '') } : {}) } }));
            history.replaceState(null, '', location.pathname);
            toast.show(t('shell.reset.done'));
            navigate('/sign-in', { replace: true });
          }}
        >
          <TextField label={t('shell.reset.newPassword')} hint={t('shell.reset.newPasswordHint')} name="password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} maxLength={1024} />
          <TextField label={t('shell.reset.confirmPassword')} name="repeat" type="password" autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.target.value)} maxLength={1024} />
          <TextField label={t('shell.reset.totpOptional')} name="totp" autoComplete="one-time-code" value={totp} onChange={(e) => setTotp(e.target.value)} maxLength={32} />
        </Form>
        <Link to="/sign-in">{t('shell.reset.back')}</Link>
      </div>
    </Page>
  );
}
