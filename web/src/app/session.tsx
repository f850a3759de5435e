// Who is signed in, as GET /api/v1/auth/session describes it. Keeps the CSRF
// token for the API client, follows the person's preferred language, and
// sends the person to sign-in (and back) when a call answers 401.
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';
import { useLocation, useNavigate } from 'react-router';
import { api, ApiError, call, onAuthProblem, setCsrfToken } from '../api/client.ts';
import type { SessionView } from '../api/types.ts';
import type { Role } from '../features/types.ts';
import { isLanguage, useLanguage } from './i18n.tsx';

export type { SessionView };

export type SessionState =
  | { status: 'loading' }
  | { status: 'signed-out' }
  | { status: 'signed-in'; session: SessionView }
  | { status: 'error'; error: ApiError };

export interface SessionValue {
  status: SessionState['status'];
  session: SessionView | null;
  user: SessionView['user'] | null;
  tenant: SessionView['tenant'] | null;
  role: Role | null;
  platformRoles: string[];
  csrfToken: string | null;
  /** The error that kept the session from loading (network, 5xx). */
  error: ApiError | null;
  /** Reads the session again (after consent, enrolment, a profile change). */
  refresh(): Promise<void>;
  /** Takes a session the server just answered with (sign-in, invitation acceptance). */
  signedIn(session: SessionView): void;
  signOut(): Promise<void>;
}

const SessionContext = createContext<SessionValue | undefined>(undefined);

/** Where sign-in sends the person afterwards: only same-origin paths. */
export function safeReturnTo(value: string | null | undefined): string {
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return '/';
  return value;
}

export function signInPath(returnTo: string): string {
  return returnTo && returnTo !== '/' ? `/sign-in?returnTo=${encodeURIComponent(returnTo)}` : '/sign-in';
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ status: 'loading' });
  const { language, setLanguage } = useLanguage();
  const navigate = useNavigate();
  const location = useLocation();
  const here = useRef('/');
  here.current = `${location.pathname}${location.search}${location.hash}`;
  const languageRef = useRef(language);
  languageRef.current = language;

  const adopt = useCallback((session: SessionView) => {
    setCsrfToken(session.csrfToken);
    if (isLanguage(session.user.language) && session.user.language !== languageRef.current) setLanguage(session.user.language);
    setState({ status: 'signed-in', session });
  }, [setLanguage]);

  const refresh = useCallback(async () => {
    try {
      adopt(await call(api.GET('/api/v1/auth/session')));
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(0, 'network', String(err));
      setCsrfToken(undefined);
      if (e.status === 401) setState({ status: 'signed-out' });
      else setState({ status: 'error', error: e });
    }
  }, [adopt]);

  useEffect(() => { void refresh(); }, [refresh]);

  useEffect(() => onAuthProblem((err) => {
    if (err.status === 401) {
      setState({ status: 'signed-out' });
      if (!here.current.startsWith('/sign-in')) navigate(signInPath(here.current), { replace: true });
    } else {
      // consent_required / second_factor_enrollment_required: the gate reads the session again.
      void refresh();
    }
  }), [navigate, refresh]);

  const signOut = useCallback(async () => {
    try { await call(api.POST('/api/v1/auth/logout')); } catch { /* signed out locally either way */ }
    setCsrfToken(undefined);
    setState({ status: 'signed-out' });
    navigate('/sign-in', { replace: true });
  }, [navigate]);

  const value = useMemo<SessionValue>(() => {
    const session = state.status === 'signed-in' ? state.session : null;
    return {
      status: state.status,
      session,
      user: session?.user ?? null,
      tenant: session?.tenant ?? null,
      role: (session?.tenant?.role as Role | undefined) ?? null,
      platformRoles: session?.platformRoles ?? [],
      csrfToken: session?.csrfToken ?? null,
      error: state.status === 'error' ? state.error : null,
      refresh,
      signedIn: adopt,
      signOut,
    };
  }, [state, refresh, adopt, signOut]);

  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession() outside <SessionProvider>');
  return value;
}
