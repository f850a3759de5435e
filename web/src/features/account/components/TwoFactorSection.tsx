// The authenticator app (TOTP) and its recovery codes. Setting up shows the
// otpauth URI and the secret as text (to paste into the app or type in), then
// asks for a first code; the ten recovery codes are shown once.
import { useState } from 'react';
import { api, call } from '../../../api/client.ts';
import { errorText, useT } from '../../../app/i18n.tsx';
import { useSession } from '../../../app/session.tsx';
import { Button, Dialog, Form, Section, TextField, useToast } from '../../../ui/index.ts';
import { groupSecret } from '../format.ts';
import { CopyButton } from './CopyButton.tsx';
import { useReauth } from './reauth.tsx';

function RecoveryCodes({ codes }: { codes: string[] }) {
  const t = useT();
  return (
    <div className="stack account-recovery">
      <p className="alert alert-warning">{t('account.twofactor.recovery_once')}</p>
      <ul className="account-codes" aria-label={t('account.twofactor.recovery_title')}>
        {codes.map((c) => <li key={c}><code>{c}</code></li>)}
      </ul>
      <div><CopyButton text={codes.join('\n')} label={t('account.twofactor.copy_codes')} /></div>
    </div>
  );
}

export function TwoFactorSection() {
  const t = useT();
  const toast = useToast();
  const session = useSession();
  const reauth = useReauth();
  const enabled = Boolean(session.user?.twoFactor);
  const [setup, setSetup] = useState<{ secret: string; uri: string } | null>(null);
  const [code, setCode] = useState('');
  const [codes, setCodes] = useState<string[] | null>(null);
  const [busy, setBusy] = useState<'begin' | 'regenerate' | 'disable' | null>(null);
  const [confirmOff, setConfirmOff] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function guarded(kind: NonNullable<typeof busy>, action: () => Promise<void>) {
    setError(null);
    if (!(await reauth.ensure())) return;
    setBusy(kind);
    try { await action(); } catch (err) { setError(errorText(err)); } finally { setBusy(null); }
  }

  const begin = () => guarded('begin', async () => {
    setCodes(null);
    setCode('');
    setSetup(await call(api.POST('/api/v1/account/totp')));
  });
  const regenerate = () => guarded('regenerate', async () => {
    setCodes((await call(api.POST('/api/v1/account/recovery-codes'))).recoveryCodes);
    toast.show(t('account.twofactor.regenerated'));
  });
  const disable = () => {
    setConfirmOff(false);
    return guarded('disable', async () => {
      await call(api.DELETE('/api/v1/account/totp'));
      setCodes(null);
      await session.refresh();
      toast.show(t('account.twofactor.disabled'));
    });
  };

  return (
    <Section title={t('account.twofactor.title')}>
      {reauth.dialog}
      <p>
        {t('account.twofactor.status')}{' '}
        {enabled ? <span className="badge badge-success">{t('account.twofactor.on')}</span> : <span className="badge badge-warning">{t('account.twofactor.off')}</span>}
      </p>
      <p className="muted">{t('account.twofactor.intro')}</p>
      {error ? <p className="alert alert-error" role="alert">{error}</p> : null}

      {setup && !enabled ? (
        <div className="card stack account-totp-setup">
          <h3>{t('account.twofactor.setup_title')}</h3>
          <ol className="stack">
            <li>
              <p>{t('account.twofactor.step_uri')}</p>
              <code className="account-secret" id="totp-uri">{setup.uri}</code>
              <CopyButton text={setup.uri} label={t('account.twofactor.copy_uri')} />
            </li>
            <li>
              <p>{t('account.twofactor.step_secret')}</p>
              <code className="account-secret" id="totp-secret" data-secret={setup.secret}>{groupSecret(setup.secret)}</code>
              <CopyButton text={setup.secret} label={t('account.twofactor.copy_secret')} />
            </li>
            <li>
              <Form
                label={t('account.twofactor.confirm_title')}
                submitLabel={t('account.twofactor.confirm')}
                validate={() => ({ code: /^\s*\d{6}\s*$/.test(code) ? undefined : t('account.twofactor.code_invalid') })}
                onSubmit={async () => {
                  const result = await call(api.POST('/api/v1/account/totp/confirm', { body: { code: code.trim() } }));
                  setCodes(result.recoveryCodes);
                  setSetup(null);
                  await session.refresh();
                  toast.show(t('account.twofactor.enabled'));
                }}
                secondary={<Button onClick={() => setSetup(null)}>{t('account.action.cancel')}</Button>}
              >
                <TextField label={t('account.twofactor.code')} name="code" inputMode="numeric" autoComplete="one-time-code" maxLength={6} value={code} onChange={(e) => setCode(e.target.value)} />
              </Form>
            </li>
          </ol>
        </div>
      ) : null}

      {codes ? <RecoveryCodes codes={codes} /> : null}

      <div className="row account-actions">
        {!enabled && !setup ? <Button variant="primary" icon="shield" busy={busy === 'begin'} onClick={begin}>{t('account.twofactor.begin')}</Button> : null}
        {enabled ? <Button icon="refresh" busy={busy === 'regenerate'} onClick={regenerate}>{t('account.twofactor.regenerate')}</Button> : null}
        {enabled ? <Button variant="danger" busy={busy === 'disable'} onClick={() => setConfirmOff(true)}>{t('account.twofactor.disable')}</Button> : null}
      </div>

      <Dialog
        open={confirmOff}
        title={t('account.twofactor.disable_title')}
        onClose={() => setConfirmOff(false)}
        size="small"
        actions={<>
          <Button onClick={() => setConfirmOff(false)}>{t('account.action.cancel')}</Button>
          <Button variant="danger" onClick={disable}>{t('account.twofactor.disable')}</Button>
        </>}
      >
        <p>{t('account.twofactor.disable_body')}</p>
      </Dialog>
    </Section>
  );
}
