// The erasure ledger: an append-only file outside the database and its
// backups, so that a restored backup can be told whom it must forget again.
// A line holds only keyed hashes of the erased identifiers (never the values),
// the time and the tenant scope; each line carries the MAC of the one before
// and its own MAC, so an edited, removed or reordered line is detected.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AppError } from '../../../platform/errors.ts';

export interface LedgerEntry {
  v: 1;
  seq: number;
  /** The erasure's id (privacy_erasures.id): names the request, not the person. */
  erasure: string;
  at: string;
  /** Tenants the erasure was limited to; null = every tenant. */
  scope: string[] | null;
  /** Keyed hashes of the erased identifiers (email, user ids, audience account ids). */
  subjects: string[];
  prev: string;
  mac: string;
}

export interface ErasureLedger {
  readonly path: string;
  /** Every entry, after checking the chain; throws erasure_ledger_tampered on any fault. */
  read(): LedgerEntry[];
  /** Appends unless this erasure already has a line (a resumed erasure appends once). */
  append(input: { erasure: string; at: Date; scope: string[] | null; identifiers: string[] }): { appended: boolean; entry: LedgerEntry };
  /** The keyed hash of one identifier, as stored in lines. */
  hash(identifier: string): string;
}

export const defaultLedgerPath = (dataDir: string) => join(dataDir, 'privacy', 'erasure-ledger.ndjson');

/** ledgerKey: derived from the pseudonym key, so a copy of the file alone reveals nothing and cannot be forged. */
export function ledgerKey(pseudonymKey: Buffer): Buffer {
  return createHmac('sha256', pseudonymKey).update('haven:erasure-ledger:v1').digest();
}

const GENESIS = 'genesis';

export function openErasureLedger(path: string, key: Buffer): ErasureLedger {
  const hash = (identifier: string) => createHmac('sha256', key).update(`id:${identifier.trim().toLowerCase()}`).digest('base64url');
  const macOf = (e: Omit<LedgerEntry, 'mac'>) =>
    createHmac('sha256', key).update(JSON.stringify([e.v, e.seq, e.erasure, e.at, e.scope, e.subjects, e.prev])).digest('base64url');

  const read = (): LedgerEntry[] => {
    if (!existsSync(path)) return [];
    const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '');
    const entries: LedgerEntry[] = [];
    let prev = GENESIS;
    for (const [i, line] of lines.entries()) {
      const fault = (why: string) => new AppError('erasure_ledger_tampered', 500, `The erasure ledger ${path} fails its check at line ${i + 1}: ${why}.`);
      let e: LedgerEntry;
      try {
        e = JSON.parse(line) as LedgerEntry;
      } catch {
        throw fault('not JSON');
      }
      if (e.v !== 1 || e.seq !== i + 1 || !Array.isArray(e.subjects) || typeof e.mac !== 'string') throw fault('malformed or out of order');
      if (e.prev !== prev) throw fault('it does not follow the line before it');
      const expected = Buffer.from(macOf(e));
      const given = Buffer.from(e.mac);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw fault('its MAC does not match its content');
      entries.push(e);
      prev = e.mac;
    }
    return entries;
  };

  return {
    path,
    read,
    hash,
    append({ erasure, at, scope, identifiers }) {
      const entries = read();
      const existing = entries.find((e) => e.erasure === erasure);
      if (existing) return { appended: false, entry: existing };
      const body: Omit<LedgerEntry, 'mac'> = {
        v: 1, seq: entries.length + 1, erasure, at: at.toISOString(), scope,
        subjects: [...new Set(identifiers.filter(Boolean).map(hash))].sort(),
        prev: entries.at(-1)?.mac ?? GENESIS,
      };
      const entry: LedgerEntry = { ...body, mac: macOf(body) };
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      const fd = openSync(path, 'a', 0o600);
      try {
        writeSync(fd, `${JSON.stringify(entry)}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      return { appended: true, entry };
    },
  };
}
