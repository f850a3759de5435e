// Envelope encryption and crypto-shredding against the real database.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';

describe('keyring', () => {
  let haven: TestHaven;
  before(async () => { haven = await startTestHaven(); });
  after(() => haven.stop());

  test('data keys round-trip through the tenant key', async () => {
    const { keyring, db } = haven.platform;
    const t = await haven.modules.tenants.create({ name: 'Keys' });
    const dk = await db.withTenant(t.id, (tx) => keyring.newDataKey(tx, t.id, 'video:1'));
    assert.equal(dk.key.length, 32);
    const again = await db.withTenant(t.id, (tx) => keyring.unwrapDataKey(tx, t.id, dk.wrapped, 'video:1'));
    assert.deepEqual(again, dk.key);
    await assert.rejects(db.withTenant(t.id, (tx) => keyring.unwrapDataKey(tx, t.id, dk.wrapped, 'video:2')), (err: { code?: string }) => err.code === 'key_unwrap_failed');
  });

  test('another tenant cannot unwrap a data key', async () => {
    const { keyring, db } = haven.platform;
    const t1 = await haven.modules.tenants.create({ name: 'One' });
    const t2 = await haven.modules.tenants.create({ name: 'Two' });
    const dk = await db.withTenant(t1.id, (tx) => keyring.newDataKey(tx, t1.id, 'x'));
    await assert.rejects(db.withTenant(t2.id, (tx) => keyring.unwrapDataKey(tx, t1.id, dk.wrapped, 'x')));
  });

  test('destroying the tenant key crypto-shreds its objects', async () => {
    const { keyring, db, storage } = haven.platform;
    const { encryptStream, decryptStream } = await import('../src/platform/crypto/stream.ts');
    const { Readable } = await import('node:stream');
    const { pipeline } = await import('node:stream/promises');
    const t = await haven.modules.tenants.create({ name: 'Shred' });
    const store = storage.forRegion(t.region);
    const dk = await db.withTenant(t.id, (tx) => keyring.newDataKey(tx, t.id, 'obj'));
    const plaintext = Buffer.from('the quarterly all-hands recording');
    await store.put(`t/${t.id}/obj`, Readable.from([plaintext]).pipe(encryptStream(dk.key)));

    const read = async (key: Buffer) => {
      const chunks: Buffer[] = [];
      await pipeline(await store.get(`t/${t.id}/obj`), decryptStream(key), async function* (src) { for await (const c of src) chunks.push(c); });
      return Buffer.concat(chunks);
    };
    assert.deepEqual(await read(dk.key), plaintext);

    const destroyed = await db.withTenant(t.id, (tx) => keyring.destroyTenantKeys(tx, t.id));
    assert.equal(destroyed, 1);
    await assert.rejects(db.withTenant(t.id, (tx) => keyring.unwrapDataKey(tx, t.id, dk.wrapped, 'obj')), (err: { code?: string }) => err.code === 'key_destroyed');
    // The ciphertext is still there, but nothing in the system can produce its key.
    const raw = await store.head(`t/${t.id}/obj`);
    assert.ok(raw && raw.size > plaintext.length);
  });
});
