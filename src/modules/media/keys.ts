// A video's two keys, both stored only sealed by the tenant key (keyring):
//   data key (32 bytes, AES-256-GCM via HVN1): the original and the images;
//   HLS key (16 bytes, AES-128-CBC): the segments, handed to authorized players.
// Each is bound to its video by the keyring's purpose, so a sealed key copied
// to another row does not open. Destroying the tenant key shreds both.
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

/** The keys of a video that has them (playback, tests); undefined before ingest. */
export async function videoKeys(tx: Tx, keyring: Keyring, tenantId: string, videoId: string): Promise<VideoKeys | undefined> {
  const row = await tx.selectFrom('videos').select(['data_key_wrapped', 'hls_key_wrapped']).where('id', '=', videoId).executeTakeFirst();
  if (!row?.data_key_wrapped || !row.hls_key_wrapped) return undefined;
  return {
    dataKey: await keyring.unwrapDataKey(tx, tenantId, row.data_key_wrapped, dataKeyPurpose(videoId)),
    hlsKey: await keyring.openForTenant(tx, tenantId, row.hls_key_wrapped, hlsKeyPurpose(videoId)),
  };
}
