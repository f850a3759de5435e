// The target of the confirmation mail's link (/verify-email#token=…): confirms
// the signed-in person's address with the token and says how it went. The
// token stays in the fragment, so it never reaches a server log; sign-in (when
// needed) comes back here with it.
import { useCallback, useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { ApiError, api, call } from '../../api/client.ts';
import { errorText, useT } from '../../app/i18n.tsx';
import { Button } from '../../ui/Button.tsx';
import { Page } from '../../ui/Page.tsx';
import { Loading } from '../../ui/states.tsx';
import { tokenFromHash } from './ResetPasswordPage.tsx';

type State = { kind: 'working' } | { kind: 'done' } | { kind: 'failed'; error: unknown } | { kind: 'no-token' };

export default function VerifyEmailPage() {
  const t = useT();
  const token = useRef(tokenFromHash());
  const [state, setState] = useState<State>(() => (token.current ? { kind: 'working' } : { kind: 'no-token' }));
  const started = useRef(false);

  const confirm = useCallback(async () => {
    const value = token.current;
    if (!value) return;
    setState({ kind: 'working' });
    try {
      await call(api.POST('/api/v1/account/email/confirm', { body: { token: value } }));
      // The token is spent: take it out of the address bar and the history.
      history.replaceState(null, '', location.pathname);
      setState({ kind: 'done' });
    } catch (error) {
      setState({ kind: 'failed', error });
    }
  }, []);

  useEffect(() => {
    if (started.current) return;
    started.current = true;
    void confirm();
  }, [confirm]);

  const retryable = state.kind === 'failed' && state.error instanceof ApiError && state.error.retryable;
  return (
    <Page title={t('shell.verify.title')}>
      <div className="auth-card" data-testid="verify-email">
        {state.kind === 'working' && <Loading label={t('shell.verify.working')} />}
        {state.kind === 'done' && <p className="alert alert-success" role="status">{t('shell.verify.done')}</p>}
        {state.kind === 'no-token' && <p className="alert alert-warning" role="alert">{t('shell.verify.noToken')}</p>}
        {state.kind === 'failed' && (
          <div className="alert alert-error" role="alert">
            <p><strong>{t('shell.verify.failed')}</strong></p>
            <p>{errorText(state.error)}</p>
            {retryable && <Button variant="primary" icon="refresh" onClick={() => void confirm()}>{t('shell.ui.retry')}</Button>}
          </div>
        )}
        {state.kind !== 'working' && (
          <p>
            <Link to="/account">{t('shell.verify.toAccount')}</Link>
            {' · '}
            <Link to="/">{t('shell.verify.toHome')}</Link>
          </p>
        )}
      </div>
    </Page>
  );
}
