// The personal data the privacy machinery itself keeps: the parts' own maps.
import type { DataMap } from '../../platform/datamap.ts';
import { erasureDatamap } from './erasure/datamap.ts';
import { dsarDatamap } from './dsar/datamap.ts';
import { recordsDatamap } from './records/datamap.ts';
import { offboardingDatamap } from './offboarding/datamap.ts';

export const datamap: DataMap = {
  // --- records ---
  ...recordsDatamap,
  // --- dsar ---
  ...dsarDatamap,
  // --- erasure ---
  ...erasureDatamap,
  // --- trash ---
  // --- backup ---
  // --- residency & offboarding ---
  ...offboardingDatamap,
};
