// The library feature: the library with collections and uploads, the video
// page, and the trash.
import type { Feature } from '../types.ts';
import { firstRequests } from './search.ts';
import { en } from './messages/en.ts';

export const library: Feature = {
  id: 'library',
  routes: [
    { path: 'library', page: () => import('./pages/LibraryPage.tsx'), firstRequests },
    { path: 'collections/:collectionId', page: () => import('./pages/LibraryPage.tsx'), firstRequests },
    { path: 'videos/:id', page: () => import('./pages/VideoPage.tsx') },
    { path: 'trash', page: () => import('./pages/TrashPage.tsx'), roles: ['owner', 'admin'] },
  ],
  nav: [
    { section: 'library', to: '/library', label: 'library.nav' },
    { section: 'library', to: '/trash', label: 'library.nav.trash', roles: ['owner', 'admin'] },
  ],
  messages: {
    en,
    sv: () => import('./messages/sv.ts').then((m) => m.sv),
    fi: () => import('./messages/fi.ts').then((m) => m.fi),
    de: () => import('./messages/de.ts').then((m) => m.de),
  },
};
