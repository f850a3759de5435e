// Turns features' routes into lazily loaded pages: each page's code loads on
// first visit behind <Loading/>; a page that fails to load or render shows
// an error with Retry instead of a blank screen. The page a visit starts on
// is loaded at boot, beside the session request (preloadPage).
import { Component, type ComponentType, type ErrorInfo, lazy, type LazyExoticComponent, type ReactNode, Suspense, useState } from 'react';
import { matchPath } from 'react-router';
import { prefetch } from '../api/client.ts';
import type { FeatureRoute } from '../features/types.ts';
import { ErrorView, Loading } from '../ui/index.ts';
import { useT } from './i18n.tsx';

const cache = new Map<string, LazyExoticComponent<ComponentType>>();
/** Pages whose code has already loaded, by their loader: they render at once, without suspending. */
const loaded = new Map<FeatureRoute['page'], ComponentType>();

/**
 * Starts loading the code of the page at `at`, if a route matches it, and
 * the API answers the page asks for first. A page that suspends shows
 * <Loading/>, and React then holds its content back until the loading state
 * has been up for 300 ms; a page whose code is already here renders in the
 * same pass as the session that lets it in, and finds its data on the way.
 */
export function preloadPage(routes: FeatureRoute[], at: { pathname: string; search: string }): void {
  for (const route of routes) {
    const match = matchPath(route.path === '' ? '/' : `/${route.path}`, at.pathname);
    if (!match) continue;
    // A failure is left to the lazy route, which shows it with Retry.
    route.page().then((m) => { loaded.set(route.page, m.default); }, () => undefined);
    for (const path of route.firstRequests?.({ params: match.params, search: new URLSearchParams(at.search) }) ?? []) prefetch(path);
    return;
  }
}

function lazyPage(route: FeatureRoute, attempt: number): LazyExoticComponent<ComponentType> {
  const key = `${route.path}#${attempt}`;
  let page = cache.get(key);
  if (!page) {
    page = lazy(route.page);
    cache.set(key, page);
  }
  return page;
}

function isStaleChunk(error: unknown): boolean {
  return error instanceof Error && /dynamically imported module|Importing a module script failed|error loading dynamically imported/i.test(error.message);
}

interface BoundaryProps { children: ReactNode; onRetry: () => void; title: string }

export class PageErrorBoundary extends Component<BoundaryProps, { error: unknown }> {
  override state: { error: unknown } = { error: undefined };
  static getDerivedStateFromError(error: unknown) { return { error }; }
  override componentDidCatch(error: unknown, info: ErrorInfo) { console.error('page failed', error, info.componentStack); }
  override render() {
    if (this.state.error !== undefined) {
      return (
        <ErrorView
          title={this.props.title}
          error={this.state.error}
          onRetry={() => {
            // A page's code from an older build (Haven was upgraded meanwhile): only a reload finds the new one.
            if (isStaleChunk(this.state.error)) { location.reload(); return; }
            this.setState({ error: undefined });
            this.props.onRetry();
          }}
        />
      );
    }
    return this.props.children;
  }
}

/** A feature's page: lazy, with a loading state and a retrying error boundary. */
export function LazyRoute({ route }: { route: FeatureRoute }) {
  const t = useT();
  const [attempt, setAttempt] = useState(0);
  const Page = (attempt === 0 && loaded.get(route.page)) || lazyPage(route, attempt);
  return (
    <PageErrorBoundary key={attempt} title={t('shell.pageError.title')} onRetry={() => setAttempt((n) => n + 1)}>
      <Suspense fallback={<Loading />}>
        <Page />
      </Suspense>
    </PageErrorBoundary>
  );
}
