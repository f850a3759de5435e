// Search over row-level-secured videos needs the text-match and array
// containment operators marked LEAKPROOF, or PostgreSQL will not use their
// indexes (see migration 0009). pg_dump does not carry that mark for
// built-in functions, so a database restored into a fresh server loses it:
// each start puts it back (as a superuser) or says plainly why search is slow.
import type pg from 'pg';
import type { Logger } from '../../platform/log.ts';

const OPERATORS = ['ts_match_vq(tsvector, tsquery)', 'arraycontains(anyarray, anyarray)'];

export async function ensureLeakproofSearchOperators(ownerPool: pg.Pool, log: Logger): Promise<'ok' | 'fixed' | 'missing'> {
  const { rows } = await ownerPool.query<{ missing: string[]; superuser: boolean }>(
    `select coalesce(array_agg(oid::regprocedure::text) filter (where not proleakproof), '{}') as missing,
            (select rolsuper from pg_roles where rolname = current_user) as superuser
     from pg_proc where oid = any($1::regprocedure[])`,
    [OPERATORS],
  );
  const { missing, superuser } = rows[0]!;
  if (missing.length === 0) return 'ok';
  if (superuser) {
    for (const fn of OPERATORS) await ownerPool.query(`alter function ${fn} leakproof`);
    log.info({ functions: OPERATORS }, 'marked the search operators leakproof so video search can use its indexes under row-level security');
    return 'fixed';
  }
  log.warn({ functions: missing }, `video search cannot use its indexes: as a superuser, run "alter function <name> leakproof" for ${missing.join(' and ')} (see docs/library.md)`);
  return 'missing';
}
