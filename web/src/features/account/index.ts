// The signed-in person's own account: profile and language, sign-in and
// security (password, authenticator app, passkeys, sessions), API tokens,
// and "My data" (self-service privacy).
import type { Feature } from '../types.ts';
import { en } from './messages/en.ts';

export const accountFeature: Feature = {
  id: 'account',
  routes: [
    { path: 'account', page: () => import('./pages/ProfilePage.tsx') },
    { path: 'account/security', page: () => import('./pages/SecurityPage.tsx') },
    { path: 'account/tokens', page: () => import('./pages/TokensPage.tsx') },
    { path: 'account/privacy', page: () => import('./pages/PrivacyPage.tsx') },
  ],
  nav: [
    { section: 'account', to: '/account', label: 'account.nav.profile' },
    { section: 'account', to: '/account/security', label: 'account.nav.security' },
    { section: 'account', to: '/account/tokens', label: 'account.nav.tokens' },
    { section: 'privacy', to: '/account/privacy', label: 'account.nav.privacy' },
  ],
  messages: {
    en,
    sv: () => import('./messages/sv.ts').then((m) => m.sv),
    fi: () => import('./messages/fi.ts').then((m) => m.fi),
    de: () => import('./messages/de.ts').then((m) => m.de),
  },
};
