// Envelope encryption: the master key (outside the database) wraps one key per
// tenant (stored wrapped in tenant_keys); a tenant key wraps per-object data
// keys, which their owners store next to the object's row. Destroying a
// tenant key makes every data key it wrapped — and so every copy of the
// objects, backups included — unreadable (crypto-shredding).
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Tx } from '../db/database.ts';
import { AppError } from '../errors.ts';
import { openKey, sealKey } from './stream.ts';

export interface DataKey {
  key: Buffer;
  /** What to store: tenant key version + sealed data key, base64. */
  wrapped: string;
}

export interface Keyring {
  createTenantKey(tx: Tx, tenantId: string): Promise<number>;
  newDataKey(tx: Tx, tenantId: string, purpose: string): Promise<DataKey>;
  unwrapDataKey(tx: Tx, tenantId: string, wrapped: string, purpose: string): Promise<Buffer>;
  /** Crypto-shreds every tenant key version; returns how many were destroyed. */
  destroyTenantKeys(tx: Tx, tenantId: string): Promise<number>;
  /** Encrypts a small secret (e.g. a TOTP seed) under the tenant key. */
  sealForTenant(tx: Tx, tenantId: string, plaintext: Buffer, purpose: string): Promise<string>;
  openForTenant(tx: Tx, tenantId: string, sealed: string, purpose: string): Promise<Buffer>;
}

export const keyDestroyed = () =>
  new AppError('key_destroyed', 410, 'The encryption key for this data has been destroyed; the data can no longer be read.');

export function createKeyring(masterKey: Buffer): Keyring {
  const tenantAad = (tenantId: string, version: number) => Buffer.from(`haven:tenant-key:${tenantId}:${version}`);
  const dataAad = (tenantId: string, purpose: string) => Buffer.from(`haven:data-key:${tenantId}:${purpose}`);

  async function tenantKey(tx: Tx, tenantId: string, version?: number): Promise<{ key: Buffer; version: number }> {
    const row = await tx
      .selectFrom('tenant_keys')
      .select(['version', 'wrapped_key'])
      .where('tenant_id', '=', tenantId)
      .$if(version !== undefined, (q) => q.where('version', '=', version!))
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!row) throw new AppError('tenant_key_missing', 500, 'This tenant has no encryption key.');
    if (!row.wrapped_key) throw keyDestroyed();
    return { key: openKey(masterKey, row.wrapped_key, tenantAad(tenantId, row.version)), version: row.version };
  }

  const parseWrapped = (wrapped: string) => {
    const [v, b64] = wrapped.split(':');
    const version = Number(v);
    if (!Number.isInteger(version) || !b64) throw new AppError('key_malformed', 500, 'A stored data key is malformed.');
    return { version, sealed: Buffer.from(b64, 'base64') };
  };

  const keyring: Keyring = {
    async createTenantKey(tx, tenantId) {
      const next = await tx
        .selectFrom('tenant_keys')
        .select(sql<number>`coalesce(max(version), 0) + 1`.as('v'))
        .where('tenant_id', '=', tenantId)
        .executeTakeFirstOrThrow();
      const key = randomBytes(32);
      await tx.insertInto('tenant_keys').values({ tenant_id: tenantId, version: next.v, wrapped_key: sealKey(masterKey, key, tenantAad(tenantId, next.v)) }).execute();
      return next.v;
    },
    async newDataKey(tx, tenantId, purpose) {
      const tk = await tenantKey(tx, tenantId);
      const key = randomBytes(32);
      return { key, wrapped: `${tk.version}:${sealKey(tk.key, key, dataAad(tenantId, purpose)).toString('base64')}` };
    },
    async unwrapDataKey(tx, tenantId, wrapped, purpose) {
      const { version, sealed } = parseWrapped(wrapped);
      const tk = await tenantKey(tx, tenantId, version);
      return openKey(tk.key, sealed, dataAad(tenantId, purpose));
    },
    async destroyTenantKeys(tx, tenantId) {
      const res = await tx
        .updateTable('tenant_keys')
        .set({ wrapped_key: null, destroyed_at: sql`now()` })
        .where('tenant_id', '=', tenantId)
        .where('wrapped_key', 'is not', null)
        .executeTakeFirst();
      return Number(res.numUpdatedRows);
    },
    async sealForTenant(tx, tenantId, plaintext, purpose) {
      const tk = await tenantKey(tx, tenantId);
      return `${tk.version}:${sealKey(tk.key, plaintext, dataAad(tenantId, purpose)).toString('base64')}`;
    },
    async openForTenant(tx, tenantId, sealed, purpose) {
      return keyring.unwrapDataKey(tx, tenantId, sealed, purpose);
    },
  };
  return keyring;
}
