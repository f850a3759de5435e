// What a page shows while loading, when there is nothing, and when it failed.
import type { ReactNode } from 'react';
import { ApiError } from '../api/client.ts';
import { errorText, useT } from '../app/i18n.tsx';
import { Button } from './Button.tsx';
import { Icon, type IconName } from './Icon.tsx';

export function Loading({ label }: { label?: string }) {
  const t = useT();
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span>{label ?? t('shell.ui.loading')}</span>
    </div>
  );
}

export function EmptyState({ title, children, icon = 'info', action }: { title: string; children?: ReactNode; icon?: IconName; action?: ReactNode }) {
  return (
    <div className="empty-state">
      <Icon name={icon} size={32} />
      <h2 className="empty-title">{title}</h2>
      {children ? <div className="empty-body">{children}</div> : null}
      {action ? <div className="empty-action">{action}</div> : null}
    </div>
  );
}

/** An error with its message and, when it may pass, a Retry button. */
export function ErrorView({ error, onRetry, title }: { error: unknown; onRetry?: () => void; title?: string }) {
  const t = useT();
  const offline = error instanceof ApiError && error.code === 'network';
  return (
    <div className="error-view" role="alert">
      <Icon name="error" size={32} />
      <h2 className="empty-title">{title ?? (offline ? t('shell.error.title_network') : t('shell.error.title'))}</h2>
      <p>{errorText(error)}</p>
      {onRetry ? <Button variant="primary" icon="refresh" onClick={onRetry}>{t('shell.ui.retry')}</Button> : null}
    </div>
  );
}
