// The library feature: the library with collections and uploads, the video
// page, and the trash.
import type { Feature } from '../types.ts';
import { firstRequests } from './search.ts';
import { de } from './messages/de.ts';
import { en } from './messages/en.ts';
import { fi } from './messages/fi.ts';
import { sv } from './messages/sv.ts';

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
  messages: { en, sv, fi, de },
};
