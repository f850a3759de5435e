// Loads one thing the page shows and keeps its state: loading, the data, or
// the error (retryable ones get a Retry button from the page). `reload`
// fetches again; `set` replaces the data after a change the server confirmed.
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from '../../api/client.ts';

export interface Resource<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload(): void;
  set(update: (current: T | undefined) => T | undefined): void;
}

export function asApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return new ApiError(0, 'network', err instanceof Error ? err.message : String(err));
}

export function useResource<T>(load: () => Promise<T>, deps: readonly unknown[]): Resource<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const [round, setRound] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    let current = true;
    setLoading(true);
    setError(undefined);
    loadRef.current().then(
      (value) => { if (current) { setData(value); setLoading(false); } },
      (err: unknown) => { if (current) { setError(asApiError(err)); setLoading(false); } },
    );
    return () => { current = false; };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [round, ...deps]);

  const reload = useCallback(() => setRound((r) => r + 1), []);
  const set = useCallback((update: (current: T | undefined) => T | undefined) => setData(update), []);
  return { data, error, loading, reload, set };
}
