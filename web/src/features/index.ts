// Every feature of the web app, in navigation order. Each part adds one line.
import type { Feature } from './types.ts';
import { shellFeature } from './shell/index.ts';
import { library } from './library/index.ts';
import { adminFeature } from './admin/index.ts';
import { groupsFeature } from './groups/index.ts';
import { accountFeature } from './account/index.ts';
import { portalFeature } from './portal/index.ts';

export const features: Feature[] = [
  // --- shell (sign-in, consent, errors) ---
  shellFeature,
  // --- library ---
  library,
  // --- admin ---
  adminFeature, groupsFeature,
  // --- account & privacy ---
  accountFeature, portalFeature,
];
