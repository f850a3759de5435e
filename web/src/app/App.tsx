// The router, built from features: public pages in the public frame,
// everything else behind sign-in, the consent gate, 2FA enrolment and role
// guards, in the signed-in frame. Unknown paths get a not-found page.
import { lazy, type ReactNode, Suspense } from 'react';
import { Link, Navigate, Route, Routes, useLocation } from 'react-router';
import { features } from '../features/index.ts';
import type { FeatureRoute } from '../features/types.ts';
import { EmptyState, ErrorView, Loading, Page } from '../ui/index.ts';
import { useT } from './i18n.tsx';
import { AppLayout, PublicLayout } from './Layout.tsx';
import { LazyRoute, PageErrorBoundary } from './routes.tsx';
import { signInPath, useSession } from './session.tsx';

// The gates are part of the shell feature's pages; loaded only when needed.
const ConsentGate = lazy(() => import('../features/shell/ConsentGate.tsx'));
const EnrolmentGate = lazy(() => import('../features/shell/EnrolmentGate.tsx'));

function Gate({ children }: { children: ReactNode }) {
  const t = useT();
  return (
    <PageErrorBoundary title={t('shell.pageError.title')} onRetry={() => location.reload()}>
      <Suspense fallback={<Loading />}>{children}</Suspense>
    </PageErrorBoundary>
  );
}

function NotFound() {
  const t = useT();
  return (
    <Page title={t('shell.notFound.title')}>
      <EmptyState title={t('shell.notFound.title')} icon="search" action={<Link to="/">{t('shell.notFound.home')}</Link>}>
        <p>{t('shell.notFound.body')}</p>
      </EmptyState>
    </Page>
  );
}

function Forbidden() {
  const t = useT();
  return (
    <Page title={t('shell.forbidden.title')}>
      <EmptyState title={t('shell.forbidden.title')} icon="lock" action={<Link to="/">{t('shell.notFound.home')}</Link>}>
        <p>{t('shell.forbidden.body')}</p>
      </EmptyState>
    </Page>
  );
}

/** Waits for the session; shows a retry when it could not be read (network, 5xx). */
function SessionPending({ children }: { children: ReactNode }) {
  const session = useSession();
  if (session.status === 'loading') return <div className="app-loading"><Loading /></div>;
  if (session.status === 'error') {
    return (
      <PublicLayout>
        <ErrorView error={session.error} onRetry={() => void session.refresh()} />
      </PublicLayout>
    );
  }
  return <>{children}</>;
}

function Private({ route, children }: { route?: FeatureRoute; children: ReactNode }) {
  const session = useSession();
  const loc = useLocation();
  if (session.status !== 'signed-in' || !session.session) {
    return <Navigate to={signInPath(`${loc.pathname}${loc.search}${loc.hash}`)} replace />;
  }
  const s = session.session;
  if (s.secondFactorEnrollmentRequired) return <PublicLayout persistLanguage><Gate><EnrolmentGate /></Gate></PublicLayout>;
  if (s.consentRequired) return <PublicLayout persistLanguage><Gate><ConsentGate /></Gate></PublicLayout>;
  const allowed = (!route?.roles || (session.role !== null && route.roles.includes(session.role)))
    && (!route?.platform || session.platformRoles.length > 0);
  return <AppLayout>{allowed ? children : <Forbidden />}</AppLayout>;
}

function Public({ children }: { children: ReactNode }) {
  const { status } = useSession();
  return <PublicLayout persistLanguage={status === 'signed-in'}>{children}</PublicLayout>;
}

function FallbackNotFound() {
  const { status } = useSession();
  return status === 'signed-in' ? <Private><NotFound /></Private> : <Public><NotFound /></Public>;
}

export function App() {
  const routes = features.flatMap((f) => f.routes);
  return (
    <SessionPending>
      <Routes>
        {routes.map((r) => (
          <Route
            key={r.path}
            path={r.path === '' ? '/' : `/${r.path}`}
            element={r.public ? <Public><LazyRoute route={r} /></Public> : <Private route={r}><LazyRoute route={r} /></Private>}
          />
        ))}
        <Route path="*" element={<FallbackNotFound />} />
      </Routes>
    </SessionPending>
  );
}
