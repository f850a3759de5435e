// Loads data for a page: { data, error, loading, reload }. Pair with
// <Loading/> and <ErrorView error onRetry={reload}/>.
//
// The request starts in a layout effect: as soon as the page is committed,
// before the browser lays out and paints its loading state, which on a cold
// load of a page takes longer than the request itself.
import { type DependencyList, useCallback, useLayoutEffect, useRef, useState } from 'react';

export interface AsyncState<T> { data: T | undefined; error: unknown; loading: boolean; reload: () => void; setData: (data: T) => void }

export function useAsync<T>(load: () => Promise<T>, deps: DependencyList): AsyncState<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [attempt, setAttempt] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useLayoutEffect(() => {
    let live = true;
    // The same state when already loading, so the first load causes no second render before paint.
    setState((s) => (s.loading && s.error === undefined ? s : { ...s, loading: true, error: undefined }));
    loadRef.current().then(
      (data) => { if (live) setState({ data, error: undefined, loading: false }); },
      (error: unknown) => { if (live) setState((s) => ({ data: s.data, error, loading: false })); },
    );
    return () => { live = false; };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, attempt]);
  const reload = useCallback(() => setAttempt((n) => n + 1), []);
  const setData = useCallback((data: T) => setState({ data, error: undefined, loading: false }), []);
  return { ...state, reload, setData };
}
