// The personal data playback keeps: the parts' own maps, one table each part.
import type { DataMap } from '../../platform/datamap.ts';
import { analyticsDatamap } from './analytics/datamap.ts';
import { accessDatamap } from './access/datamap.ts';
import { datamap as playerDatamap } from './player/datamap.ts';

export const datamap: DataMap = {
  // --- access ---
  ...accessDatamap,
  // --- player ---
  ...playerDatamap,
  // --- analytics ---
  ...analyticsDatamap,
};
