// Every module's data map, in one place: the privacy machinery (export,
// erasure, retention, records of processing) and the schema test read this.
import type { DataMap } from '../platform/datamap.ts';
import { datamap as platform } from '../platform/db/datamap.ts';
import { datamap as audit } from './audit/datamap.ts';
import { datamap as identity } from './identity/datamap.ts';
import { datamap as library } from './library/datamap.ts';
import { datamap as notices } from './notices/datamap.ts';
import { datamap as playback } from './playback/datamap.ts';
import { datamap as privacy } from './privacy/datamap.ts';

export const datamaps: Record<string, DataMap> = { platform, audit, identity, library, playback, privacy, notices };

/** table → column → declaration, across modules; a table declared twice is a bug. */
export function combinedDataMap(): DataMap {
  const all: DataMap = {};
  for (const [module, map] of Object.entries(datamaps)) {
    for (const [table, columns] of Object.entries(map)) {
      if (all[table]) throw new Error(`table ${table} is declared by more than one module (${module})`);
      all[table] = columns;
    }
  }
  return all;
}
