// The shell's own pages: the start page, sign-in, password reset and the
// invitation link's target. The consent and enrolment gates are rendered by
// the app's guard (web/src/app/App.tsx), not routed.
import type { Feature } from '../types.ts';
import { shellMessages } from './messages.ts';

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
  messages: shellMessages,
};
