// Administration: people and invitations, organization settings, webhooks,
// the audit log, the privacy center, and (for platform operators) backups.
import type { Feature } from '../types.ts';
import { en } from './messages/en.ts';

const admins = ['owner', 'admin'] as const;

export const adminFeature: Feature = {
  id: 'admin',
  routes: [
    { path: 'admin', page: () => import('./pages/UsersPage.tsx'), roles: [...admins] },
    { path: 'admin/users', page: () => import('./pages/UsersPage.tsx'), roles: [...admins] },
    { path: 'admin/settings', page: () => import('./pages/SettingsPage.tsx'), roles: [...admins] },
    { path: 'admin/webhooks', page: () => import('./pages/WebhooksPage.tsx'), roles: [...admins] },
    { path: 'admin/audit', page: () => import('./pages/AuditPage.tsx'), roles: [...admins] },
    { path: 'admin/privacy', page: () => import('./pages/PrivacyPage.tsx'), roles: [...admins] },
    { path: 'admin/backups', page: () => import('./pages/BackupsPage.tsx'), platform: true },
  ],
  nav: [
    { section: 'admin', to: '/admin/users', label: 'admin.nav.users', roles: [...admins] },
    { section: 'admin', to: '/admin/settings', label: 'admin.nav.settings', roles: [...admins] },
    { section: 'admin', to: '/admin/webhooks', label: 'admin.nav.webhooks', roles: [...admins] },
    { section: 'admin', to: '/admin/audit', label: 'admin.nav.audit', roles: [...admins] },
    { section: 'admin', to: '/admin/privacy', label: 'admin.nav.privacy', roles: [...admins] },
    { section: 'admin', to: '/admin/backups', label: 'admin.nav.backups', platform: true },
  ],
  messages: {
    en,
    sv: () => import('./messages/sv.ts').then((m) => m.sv),
    fi: () => import('./messages/fi.ts').then((m) => m.fi),
    de: () => import('./messages/de.ts').then((m) => m.de),
  },
};
