// A video's two keys, both stored only sealed by the tenant key (keyring):
//   data key (32 bytes, AES-256-GCM via HVN1): the original and the images;
//   HLS key (16 bytes, AES-128-CBC): the segments, handed to authorized players.
// Each is bound to its video by the keyring's purpose, so a sealed key copied
// to another row does not open. Destroying the tenant key shreds both.
// Each ladder generation has its own HLS key: while a replaced source's new
// ladder is built, the one still played keeps its key (previous_hls_key_wrapped).
import { randomBytes } from 'node:crypto';
import type { Database, Tx } from '../../platform/db/database.ts';
import { notFound } from '../../platform/errors.ts';
import type { Keyring } from '../../platform/crypto/keyring.ts';

export const dataKeyPurpose = (videoId: string) => `video:${videoId}`;
export const hlsKeyPurpose = (videoId: string) => `video-hls:${videoId}`;

export interface VideoKeys { dataKey: Buffer; hlsKey: Buffer }

/** The video's keys, created (once, under the row lock) on first use. */
export async function ensureVideoKeys(db: Database, keyring: Keyring, tenantId: string, videoId: string): Promise<VideoKeys> {
  return db.withTenant(tenantId, async (tx) => {
    const row = await tx.selectFrom('videos').select(['data_key_wrapped', 'hls_key_wrapped']).where('id', '=', videoId).forUpdate().executeTakeFirst();
    if (!row) throw notFound('video');
    const set: Record<string, string> = {};
    let dataKey: Buffer;
    let hlsKey: Buffer;
    if (row.data_key_wrapped) {
      dataKey = await keyring.unwrapDataKey(tx, tenantId, row.data_key_wrapped, dataKeyPurpose(videoId));
    } else {
      const created = await keyring.newDataKey(tx, tenantId, dataKeyPurpose(videoId));
      dataKey = created.key;
      set.data_key_wrapped = created.wrapped;
    }
    if (row.hls_key_wrapped) {
      hlsKey = await keyring.openForTenant(tx, tenantId, row.hls_key_wrapped, hlsKeyPurpose(videoId));
    } else {
      hlsKey = randomBytes(16);
      set.hls_key_wrapped = await keyring.sealForTenant(tx, tenantId, hlsKey, hlsKeyPurpose(videoId));
    }
    if (Object.keys(set).length) await tx.updateTable('videos').set(set).where('id', '=', videoId).execute();
    return { dataKey, hlsKey };
  });
}

/** Fresh sealed keys for a new version of a video's source (replace.ts), made in the caller's transaction. */
export async function newSealedKeys(tx: Tx, keyring: Keyring, tenantId: string, videoId: string): Promise<{ data_key_wrapped: string; hls_key_wrapped: string }> {
  const data = await keyring.newDataKey(tx, tenantId, dataKeyPurpose(videoId));
  return { data_key_wrapped: data.wrapped, hls_key_wrapped: await keyring.sealForTenant(tx, tenantId, randomBytes(16), hlsKeyPurpose(videoId)) };
}

/**
 * The keys of a video that has them (playback, tests); undefined before
 * ingest. With `generation`, the HLS key is that ladder generation's: the
 * current one's, or the previous one's while it is still played; undefined
 * for any other (its ladder is gone).
 */
export async function videoKeys(tx: Tx, keyring: Keyring, tenantId: string, videoId: string, generation?: number): Promise<VideoKeys | undefined> {
  const row = await tx.selectFrom('videos').select(['data_key_wrapped', 'hls_key_wrapped', 'rendition_generation', 'previous_generation', 'previous_hls_key_wrapped'])
    .where('id', '=', videoId).executeTakeFirst();
  if (!row?.data_key_wrapped) return undefined;
  const sealedHls = generation === undefined || generation === row.rendition_generation ? row.hls_key_wrapped
    : generation === row.previous_generation ? row.previous_hls_key_wrapped : null;
  if (!sealedHls) return undefined;
  return {
    dataKey: await keyring.unwrapDataKey(tx, tenantId, row.data_key_wrapped, dataKeyPurpose(videoId)),
    hlsKey: await keyring.openForTenant(tx, tenantId, sealedHls, hlsKeyPurpose(videoId)),
  };
}
