// Sensitive changes (second factor, passkeys, recovery codes) need the
// password confirmed in this session within the last ten minutes. The UI asks
// for it up front, before the change, so the change itself never answers
// reauthentication_required.
import { type ReactNode, useCallback, useRef, useState } from 'react';
import { api, call } from '../../../api/client.ts';
import { useT } from '../../../app/i18n.tsx';
import { useSession } from '../../../app/session.tsx';
import { Dialog, Form, TextField } from '../../../ui/index.ts';

// The server's window is 10 minutes; asking again a little earlier avoids a race at the edge.
const WINDOW_MS = 9 * 60_000;
let confirmedAt = 0;

/** Forget the confirmation (after sign-out or a password change). */
export function forgetReauth(): void { confirmedAt = 0; }

export interface Reauth {
  /** Resolves true once the password is confirmed (at once when it was recently), false when the person cancels. */
  ensure(): Promise<boolean>;
  /** The dialog; render it once in the component that calls ensure(). */
  dialog: ReactNode;
}

export function useReauth(): Reauth {
  const t = useT();
  const { user } = useSession();
  const [open, setOpen] = useState(false);
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const settle = useRef<((ok: boolean) => void) | undefined>(undefined);

  const ensure = useCallback(() => {
    if (Date.now() - confirmedAt < WINDOW_MS) return Promise.resolve(true);
    setPassword('');
    setCode('');
    setOpen(true);
    return new Promise<boolean>((resolve) => { settle.current = resolve; });
  }, []);

  const finish = (ok: boolean) => {
    setOpen(false);
    settle.current?.(ok);
    settle.current = undefined;
  };

  const needsCode = Boolean(user?.twoFactor);
  const dialog = (
    <Dialog open={open} title={t('account.reauth.title')} onClose={() => finish(false)} size="small">
      <p>{t('account.reauth.intro')}</p>
      <Form
        label={t('account.reauth.title')}
        submitLabel={t('account.reauth.submit')}
        validate={() => ({
          password: password ? undefined : t('account.form.required'),
          code: needsCode && !/^\s*[0-9A-Za-z-]{6,20}\s*$/.test(code) ? t('account.twofactor.code_invalid') : undefined,
        })}
        onSubmit={async () => {
          await call(api.POST('/api/v1/auth/reauthenticate', { body: { password, ...(needsCode ? { totp: code.trim() } : {}) } }));
          confirmedAt = Date.now();
          finish(true);
        }}
        secondary={<button type="button" className="btn btn-secondary" onClick={() => finish(false)}>{t('account.action.cancel')}</button>}
      >
        <TextField label={t('account.reauth.password')} name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        {needsCode ? (
          <TextField label={t('account.reauth.code')} name="code" inputMode="numeric" autoComplete="one-time-code" value={code} onChange={(e) => setCode(e.target.value)} hint={t('account.reauth.code_hint')} />
        ) : null}
      </Form>
    </Dialog>
  );
  return { ensure, dialog };
}
