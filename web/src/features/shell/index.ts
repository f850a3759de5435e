// The shell's own pages: the start page, sign-in, password reset and the
// invitation link's target. The consent and enrolment gates are rendered by
// the app's guard (web/src/app/App.tsx), not routed.
import type { Feature } from '../types.ts';
import { en } from './messages/en.ts';

export const shellFeature: Feature = {
  id: 'shell',
  routes: [
    { path: '', page: () => import('./HomePage.tsx') },
    { path: 'sign-in', page: () => import('./SignInPage.tsx'), public: true },
    { path: 'reset-password', page: () => import('./ResetPasswordPage.tsx'), public: true },
    { path: 'invite', page: () => import('./InvitePage.tsx'), public: true },
    { path: 'verify-email', page: () => import('./VerifyEmailPage.tsx') },
  ],
  nav: [],
  messages: {
    en,
    sv: () => import('./messages/sv.ts').then((m) => m.sv),
    fi: () => import('./messages/fi.ts').then((m) => m.fi),
    de: () => import('./messages/de.ts').then((m) => m.de),
  },
};
