// The public viewer pages: an organization's landing with its public videos.
// /watch/{id} and /embed/{id} are the player module's pages, not React.
import type { Feature } from '../types.ts';
import { portalMessages } from './messages.ts';

export const portalFeature: Feature = {
  id: 'portal',
  routes: [{ path: 't/:slug', page: () => import('./LandingPage.tsx'), public: true }],
  nav: [],
  messages: portalMessages,
};
