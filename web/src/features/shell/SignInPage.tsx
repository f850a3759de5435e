// Sign-in: password, then the second factor when the server asks for it
// (a TOTP or recovery code, or the passkey it offers); passwordless passkey
// sign-in; the single sign-on buttons of an organization.
import { useState } from 'react';
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router';
import { api, ApiError, call } from '../../api/client.ts';
import type { SessionView } from '../../api/types.ts';
import { errorText, useT } from '../../app/i18n.tsx';
import { safeReturnTo, useSession } from '../../app/session.tsx';
import { getPasskeyAssertion, passkeysAvailable } from '../../app/webauthn.ts';
import { Button, Form, Page, TextField } from '../../ui/index.ts';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

interface SecondFactor { methods: string[]; passkeyOptions?: Record<string, unknown> }

function passkeyError(err: unknown): Error {
  if (err instanceof DOMException && (err.name === 'NotAllowedError' || err.name === 'AbortError')) return new ApiError(0, 'passkey_cancelled', err.message);
  return err as Error;
}

export default function SignInPage() {
  const t = useT();
  const session = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const returnTo = safeReturnTo(params.get('returnTo'));
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [second, setSecond] = useState<SecondFactor | null>(null);
  const [passkeyBusy, setPasskeyBusy] = useState(false);
  const [passkeyFailure, setPasskeyFailure] = useState<string | null>(null);

  function done(s: SessionView) {
    session.signedIn(s);
    navigate(returnTo, { replace: true });
  }

  async function signIn() {
    try {
      done(await call(api.POST('/api/v1/auth/login', { body: { email: email.trim(), password } })));
    } catch (err) {
      if (err instanceof ApiError && err.code === 'second_factor_required') {
        const details = (err.details ?? {}) as Partial<SecondFactor>;
        setSecond({ methods: details.methods ?? ['totp'], passkeyOptions: details.passkeyOptions });
        return;
      }
      throw err;
    }
  }

  async function verifyCode() {
    done(await call(api.POST('/api/v1/auth/login', { body: { email: email.trim(), password, totp: code.replace(/\s+/g, '') } })));
  }

  async function verifyPasskey() {
    if (!second?.passkeyOptions) return;
    setPasskeyBusy(true);
    setPasskeyFailure(null);
    try {
      const credential = await getPasskeyAssertion(second.passkeyOptions).catch((e) => { throw passkeyError(e); });
      done(await call(api.POST('/api/v1/auth/passkey/verify', { body: { credential: credential as never } })));
    } catch (err) {
      setPasskeyFailure(errorText(err));
    } finally {
      setPasskeyBusy(false);
    }
  }

  async function passwordless() {
    setPasskeyBusy(true);
    setPasskeyFailure(null);
    try {
      const options = await call(api.POST('/api/v1/auth/passkey/options'));
      const credential = await getPasskeyAssertion(options as Record<string, unknown>).catch((e) => { throw passkeyError(e); });
      done(await call(api.POST('/api/v1/auth/passkey/login', { body: { credential: credential as never } })));
    } catch (err) {
      setPasskeyFailure(errorText(err));
    } finally {
      setPasskeyBusy(false);
    }
  }

  if (session.status === 'signed-in' && !second) return <Navigate to={returnTo} replace />;

  if (second) {
    const hasTotp = second.methods.includes('totp');
    return (
      <Page title={t('shell.totp.title')}>
        <div className="auth-card">
          {hasTotp ? (
            <Form
              label={t('shell.totp.title')}
              submitLabel={t('shell.totp.submit')}
              validate={() => ({ totp: code.trim() ? undefined : t('shell.totp.required') })}
              onSubmit={verifyCode}
            >
              <p>{t('shell.totp.intro')}</p>
              <TextField
                label={t('shell.totp.code')}
                name="totp"
                value={code}
                onChange={(e) => setCode(e.target.value)}
                autoComplete="one-time-code"
                inputMode="text"
                autoFocus
                maxLength={32}
              />
            </Form>
          ) : <p>{t('shell.totp.passkeyIntro')}</p>}
          {second.passkeyOptions ? (
            <>
              {hasTotp ? <div className="auth-divider">{t('shell.signIn.or')}</div> : null}
              <Button variant={hasTotp ? 'secondary' : 'primary'} icon="key" busy={passkeyBusy} onClick={() => void verifyPasskey()}>{hasTotp ? t('shell.totp.usePasskey') : t('shell.signIn.passkey')}</Button>
              {passkeyFailure ? <p className="alert alert-error" role="alert">{passkeyFailure}</p> : null}
            </>
          ) : null}
          <button type="button" className="link-button" onClick={() => { setSecond(null); setCode(''); }}>{t('shell.totp.back')}</button>
        </div>
      </Page>
    );
  }

  return (
    <Page title={t('shell.signIn.title')} description={t('shell.signIn.intro')}>
      {params.get('returnTo') ? <p className="alert alert-info" role="status">{t('shell.signIn.sessionEnded')}</p> : null}
      <div className="auth-card">
        <Form
          label={t('shell.signIn.title')}
          submitLabel={t('shell.signIn.submit')}
          validate={() => ({
            email: !email.trim() ? t('shell.signIn.emailRequired') : !EMAIL.test(email.trim()) ? t('shell.signIn.emailInvalid') : undefined,
            password: password ? undefined : t('shell.signIn.passwordRequired'),
          })}
          onSubmit={signIn}
        >
          <TextField label={t('shell.signIn.email')} name="email" type="email" autoComplete="username webauthn" value={email} onChange={(e) => setEmail(e.target.value)} maxLength={320} />
          <TextField label={t('shell.signIn.password')} name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} maxLength={1024} />
        </Form>
        <div className="auth-links">
          <Link to="/reset-password">{t('shell.signIn.forgot')}</Link>
        </div>
        {passkeysAvailable() ? (
          <>
            <div className="auth-divider">{t('shell.signIn.or')}</div>
            <Button icon="key" busy={passkeyBusy} onClick={() => void passwordless()}>{t('shell.signIn.passkey')}</Button>
            {passkeyFailure ? <p className="alert alert-error" role="alert">{passkeyFailure}</p> : null}
          </>
        ) : null}
      </div>
      <SingleSignOn returnTo={returnTo} initialSlug={params.get('tenant') ?? ''} />
    </Page>
  );
}

interface Provider { id: string; name: string; startUrl: string }

function SingleSignOn({ returnTo, initialSlug }: { returnTo: string; initialSlug: string }) {
  const t = useT();
  const [slug, setSlug] = useState(initialSlug);
  const [providers, setProviders] = useState<Provider[] | null>(null);
  async function find() {
    const found = await call(api.GET('/api/v1/auth/sso/{tenantSlug}/providers', { params: { path: { tenantSlug: slug.trim().toLowerCase() } } }));
    setProviders(found.items);
  }
  return (
    <section className="auth-card" aria-labelledby="sso-title">
      <h2 id="sso-title" className="section-title">{t('shell.sso.title')}</h2>
      <Form
        label={t('shell.sso.title')}
        submitLabel={t('shell.sso.find')}
        submitVariant="primary"
        validate={() => ({ tenant: slug.trim() ? undefined : t('shell.sso.required') })}
        onSubmit={find}
      >
        <TextField label={t('shell.sso.organization')} hint={t('shell.sso.organizationHint')} name="tenant" value={slug} onChange={(e) => { setSlug(e.target.value); setProviders(null); }} autoComplete="organization" maxLength={63} />
      </Form>
      {providers ? (
        providers.length ? (
          <ul className="sso-list">
            {providers.map((p) => (
              <li key={p.id}>
                <a className="btn btn-secondary" href={`${p.startUrl}?redirect=${encodeURIComponent(returnTo)}`}>{t('shell.sso.with', { name: p.name })}</a>
              </li>
            ))}
          </ul>
        ) : <p role="status">{t('shell.sso.none')}</p>
      ) : null}
    </section>
  );
}
