// The public viewer pages: an organization's landing with its public videos.
// /watch/{id} and /embed/{id} are the player module's pages, not React.
import type { Feature } from '../types.ts';
import { en } from './messages/en.ts';

export const portalFeature: Feature = {
  id: 'portal',
  routes: [{ path: 't/:slug', page: () => import('./LandingPage.tsx'), public: true }],
  nav: [],
  messages: {
    en,
    sv: () => import('./messages/sv.ts').then((m) => m.sv),
    fi: () => import('./messages/fi.ts').then((m) => m.fi),
    de: () => import('./messages/de.ts').then((m) => m.de),
  },
};
