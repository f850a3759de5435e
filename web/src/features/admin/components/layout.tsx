// The admin pages' frame: the shell's Page with the admin sub-navigation,
// and the three states a loaded block can be in besides ready.
import type { ReactNode } from 'react';
import { NavLink } from 'react-router';
import type { ApiError } from '../../../api/client.ts';
import { useT } from '../../../app/i18n.tsx';
import { useSession } from '../../../app/session.tsx';
import { ErrorView } from '../../../ui/states.tsx';
import { Page } from '../../../ui/Page.tsx';

const tabs = [
  { to: '/admin/users', key: 'admin.nav.users' },
  { to: '/admin/groups', key: 'groups.nav' },
  { to: '/admin/settings', key: 'admin.nav.settings' },
  { to: '/admin/webhooks', key: 'admin.nav.webhooks' },
  { to: '/admin/audit', key: 'admin.nav.audit' },
  { to: '/admin/privacy', key: 'admin.nav.privacy' },
] as const;

export function AdminPage({ title, intro, children }: { title: string; intro?: string; children: ReactNode }) {
  const t = useT();
  const { platformRoles } = useSession();
  return (
    <Page title={title} description={intro} className="admin-page">
      <nav className="admin-subnav" aria-label={t('admin.nav.label')}>
        <ul>
          {tabs.map((tab) => <li key={tab.to}><NavLink to={tab.to}>{t(tab.key)}</NavLink></li>)}
          {platformRoles.includes('operator') && <li><NavLink to="/admin/backups">{t('admin.nav.backups')}</NavLink></li>}
        </ul>
      </nav>
      {children}
    </Page>
  );
}

export { Loading } from '../../../ui/states.tsx';

/** An error in place of the block it kept from loading, with Retry when trying again can help. */
export function Failure({ error, retry }: { error: ApiError; retry?: () => void }) {
  return <ErrorView error={error} onRetry={retry && (error.retryable || error.status === 0) ? retry : undefined} />;
}

export function Notice({ kind, children, testId }: { kind: 'ok' | 'error' | 'info'; children: ReactNode; testId?: string }) {
  return <div className={`alert alert-${kind === 'ok' ? 'success' : kind} admin-notice`} role={kind === 'error' ? 'alert' : 'status'} data-testid={testId}>{children}</div>;
}
