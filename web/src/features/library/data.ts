// Helpers for the library's pages: localized errors, busy writes, durations.
import { useCallback, useState } from 'react';
import { hasMessage, errorText, useT } from '../../app/i18n.tsx';
import type { ApiError } from '../../api/client.ts';

/** An API error in the person's language: the library's message for its code, the shell's, else the server's. */
export function useErrorText(): (err: unknown) => string {
  const t = useT();
  return useCallback((err: unknown) => {
    const code = (err as ApiError | undefined)?.code;
    if (typeof code === 'string' && hasMessage(`library.error.${code}`)) return t(`library.error.${code}`);
    return errorText(err);
  }, [t]);
}

/** Runs a write, remembering whether it is busy and its error. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const run = useCallback(async <R,>(action: () => Promise<R>): Promise<R | undefined> => {
    setBusy(true);
    setError(undefined);
    try {
      return await action();
    } catch (err) {
      setError(err);
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, clearError: () => setError(undefined) };
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms == null) return '–';
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}` : `${m}:${String(s).padStart(2, '0')}`;
}
