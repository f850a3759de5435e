// TOTP enrolment, shown instead of any page while the organization requires
// a second factor the person has not set up yet.
import { useState } from 'react';
import { api, ApiError, call } from '../../api/client.ts';
import { useT } from '../../app/i18n.tsx';
import { useSession } from '../../app/session.tsx';
import { Button, Form, Page, TextField } from '../../ui/index.ts';

export default function EnrolmentGate() {
  const t = useT();
  const session = useSession();
  const [setup, setSetup] = useState<{ secret: string; uri: string } | null>(null);
  const [needPassword, setNeedPassword] = useState(false);
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | null>(null);

  async function begin() {
    try {
      setSetup(await call(api.POST('/api/v1/account/totp')));
      setNeedPassword(false);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'reauthentication_required') { setNeedPassword(true); return; }
      throw err;
    }
  }

  async function reauthenticate() {
    await call(api.POST('/api/v1/auth/reauthenticate', { body: { password } }));
    setPassword('');
    await begin();
  }

  async function confirm() {
    const result = await call(api.POST('/api/v1/account/totp/confirm', { body: { code: code.replace(/\s+/g, '') } }));
    setRecoveryCodes(result.recoveryCodes);
  }

  if (recoveryCodes) {
    return (
      <Page title={t('shell.enrol.done')}>
        <div className="auth-card">
          <h2 className="section-title">{t('shell.enrol.codes')}</h2>
          <p>{t('shell.enrol.codesHint')}</p>
          <ol className="codes">{recoveryCodes.map((c) => <li key={c}>{c}</li>)}</ol>
          <Button variant="primary" onClick={() => void session.refresh()}>{t('shell.ui.continue')}</Button>
        </div>
      </Page>
    );
  }

  return (
    <Page title={t('shell.enrol.title')} description={t('shell.enrol.intro')}>
      <div className="auth-card">
        {!setup && !needPassword ? (
          <Form label={t('shell.enrol.title')} submitLabel={t('shell.enrol.start')} onSubmit={begin}><></></Form>
        ) : null}
        {needPassword ? (
          <Form
            label={t('shell.enrol.reauth')}
            submitLabel={t('shell.ui.continue')}
            validate={() => ({ password: password ? undefined : t('shell.signIn.passwordRequired') })}
            onSubmit={reauthenticate}
          >
            <p>{t('shell.enrol.reauth')}</p>
            <TextField label={t('shell.signIn.password')} name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
          </Form>
        ) : null}
        {setup ? (
          <Form
            label={t('shell.enrol.title')}
            submitLabel={t('shell.enrol.confirm')}
            validate={() => ({ code: /^\d{6}$/.test(code.replace(/\s+/g, '')) ? undefined : t('shell.totp.required') })}
            onSubmit={confirm}
          >
            <p>{t('shell.enrol.step1')}</p>
            <p><span className="visually-hidden">{t('shell.enrol.secret')}: </span><code className="secret">{setup.secret}</code></p>
            <p><a href={setup.uri}>{t('shell.enrol.openApp')}</a></p>
            <p>{t('shell.enrol.step2')}</p>
            <TextField label={t('shell.totp.code')} name="code" value={code} onChange={(e) => setCode(e.target.value)} autoComplete="one-time-code" inputMode="numeric" maxLength={16} />
          </Form>
        ) : null}
        <button type="button" className="link-button" onClick={() => void session.signOut()}>{t('shell.user.signOut')}</button>
      </div>
    </Page>
  );
}
