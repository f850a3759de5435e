// Groups of people: admins name groups and say who is in them; a video's
// access editor (library) offers them in its members rule.
import type { Feature } from '../types.ts';
import { en } from './messages/en.ts';

const admins = ['owner', 'admin'] as const;

export const groupsFeature: Feature = {
  id: 'groups',
  routes: [{ path: 'admin/groups', page: () => import('./pages/GroupsPage.tsx'), roles: [...admins] }],
  nav: [{ section: 'admin', to: '/admin/groups', label: 'groups.nav', roles: [...admins] }],
  messages: {
    en,
    sv: () => import('./messages/sv.ts').then((m) => m.sv),
    fi: () => import('./messages/fi.ts').then((m) => m.fi),
    de: () => import('./messages/de.ts').then((m) => m.de),
  },
};
