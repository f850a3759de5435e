// A backup's manifest: what the backup holds, the SHA-256 of every part, and
// an HMAC over all of it with a key derived from the master key. The manifest
// in the backup location is the source of truth (a catalogue inside the
// database would itself be rolled back by a restore). The per-backup data key
// is stored beside it, wrapped by a key derived from the master key, so a
// backup opens on a fresh machine with the master key and nothing else.
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../../../platform/errors.ts';
import { openKey, sealKey } from '../../../platform/crypto/stream.ts';

export const MANIFEST_FORMAT = 'haven-backup/1';
export const tiers = ['hourly', 'daily', 'weekly'] as const;
export type Tier = (typeof tiers)[number];

const part = z.object({ key: z.string(), size: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });

export const manifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  id: z.string().regex(/^\d{8}T\d{6}Z-[0-9a-f]{8}$/),
  tier: z.enum(tiers),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  /** The region whose backup location holds the database dump (the platform's default region). */
  region: z.string(),
  database: z.object({
    serverVersion: z.string(),
    pgDumpVersion: z.string(),
    /** The plaintext pg_dump -Fc archive. */
    plainSize: z.number().int().nonnegative(),
    plainSha256: z.string().regex(/^[0-9a-f]{64}$/),
    /** The HVN1-encrypted object as stored. */
    stored: part,
  }),
  /** Signing and pseudonym keys, encrypted under the backup's data key. */
  secrets: part,
  /** Per region: the object-key manifest stored in that region's backup location. */
  objects: z.record(z.string(), part.extend({ count: z.number().int().nonnegative(), bytes: z.number().nonnegative() })),
  signature: z.string().regex(/^[0-9a-f]{64}$/),
});
export type Manifest = z.infer<typeof manifestSchema>;
export type UnsignedManifest = Omit<Manifest, 'signature'>;

/** Object keys of one backup in a backup location. */
export const backupKeys = (id: string) => ({
  prefix: `backups/${id}/`,
  manifest: `backups/${id}/manifest.json`,
  key: `backups/${id}/key.json`,
  database: `backups/${id}/database.pgdump.hvn`,
  secrets: `backups/${id}/secrets.json.hvn`,
  objects: `backups/${id}/objects.json`,
});

export function newBackupId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}

export function backupTime(id: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-/.exec(id);
  return m ? new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) : undefined;
}

const derive = (masterKey: Buffer, info: string) => Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), info, 32));

/** Keys derived from the master key: one wraps backup data keys, one signs manifests. */
export function backupKeyring(masterKey: Buffer) {
  const wrapping = derive(masterKey, 'haven:backup:key-wrapping');
  const signing = derive(masterKey, 'haven:backup:manifest-signing');
  const ledger = derive(masterKey, 'haven:backup:erasure-ledger');
  const aad = (id: string) => Buffer.from(`haven:backup-data-key:${id}`);

  const sign = (m: UnsignedManifest) => createHmac('sha256', signing).update(canonicalJson(m)).digest('hex');

  return {
    /** Encrypts the copy of the erasure ledger kept in the backup location. */
    ledgerKey: ledger,
    newDataKey(id: string): { key: Buffer; stored: string } {
      const key = randomBytes(32);
      return { key, stored: JSON.stringify({ id, wrapped: sealKey(wrapping, key, aad(id)).toString('base64') }) };
    },
    /** The data key of backup `id` from its stored key object; refuses one it cannot open. */
    openDataKey(id: string, stored: string): Buffer {
      let wrapped: string | undefined;
      try {
        const parsed = JSON.parse(stored) as { id?: unknown; wrapped?: unknown };
        if (parsed.id === id && typeof parsed.wrapped === 'string') wrapped = parsed.wrapped;
      } catch { /* malformed */ }
      if (!wrapped) throw new AppError('backup_key_invalid', 422, `The key object of backup ${id} is malformed; the backup cannot be decrypted.`);
      try {
        return openKey(wrapping, Buffer.from(wrapped, 'base64'), aad(id));
      } catch {
        throw new AppError('backup_key_unusable', 422, `The key of backup ${id} cannot be unwrapped with this master key; restore with the master key of the installation that made the backup.`);
      }
    },
    /** HMAC over any JSON value (base-backup manifests), with the manifest-signing key. */
    signatureOf(value: unknown): string {
      return createHmac('sha256', signing).update(canonicalJson(value)).digest('hex');
    },
    signatureMatches(value: unknown, signature: string): boolean {
      const expected = Buffer.from(createHmac('sha256', signing).update(canonicalJson(value)).digest('hex'), 'hex');
      const given = Buffer.from(signature, 'hex');
      return given.length === expected.length && timingSafeEqual(expected, given);
    },
    sign(m: UnsignedManifest): Manifest {
      return { ...m, signature: sign(m) };
    },
    /** Parses and checks a stored manifest; anything altered is refused. */
    verify(id: string, text: string): Manifest {
      let parsed: Manifest;
      try {
        parsed = manifestSchema.parse(JSON.parse(text));
      } catch {
        throw new AppError('backup_manifest_invalid', 422, `The manifest of backup ${id} is not a valid Haven backup manifest; it was damaged or altered.`);
      }
      const { signature, ...unsigned } = parsed;
      const expected = Buffer.from(sign(unsigned), 'hex');
      if (parsed.id !== id || !timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
        throw new AppError('backup_manifest_tampered', 422, `The manifest of backup ${id} fails its signature check: it was altered, or signed under another master key. Refusing to use it.`);
      }
      return parsed;
    },
  };
}
export type BackupKeyring = ReturnType<typeof backupKeyring>;

/** JSON with sorted keys, so the signature does not depend on property order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
