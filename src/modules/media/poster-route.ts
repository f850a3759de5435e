// A video's poster or thumbnail for the library's own pages: members with
// videos:read see the picture without starting a playback (no token, no
// view). The JPEG is stored HVN1-encrypted with the video's data key and is
// decrypted on the way out; the browser may keep it for a few minutes, a
// shared cache may not. Staff reads (support grants, operators outside their
// tenants) are audited as private media, as attachment downloads are.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Tx } from '../../platform/db/database.ts';
import { decryptStream } from '../../platform/crypto/stream.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import type { HttpServer } from '../../platform/http/server.ts';
import { errorResponses, idParam } from '../../platform/http/schemas.ts';
import type { Platform } from '../../platform/platform.ts';
import { ObjectNotFoundError } from '../../platform/storage/types.ts';
import type { AuditService } from '../audit/service.ts';
import { authorize } from '../identity/access.ts';
import { videoKeys } from './keys.ts';
import type { VideoAssets } from './images.ts';

export const posterSizes = ['thumb', 'poster'] as const;
export type PosterSize = (typeof posterSizes)[number];

const noPicture = () => new AppError('poster_not_found', 404, 'This video has no poster yet (it is still processing, failed, or has no picture).');

interface Picture { region: string; key: string; etag: string; dataKey: Buffer }

/** The stored image of the size asked for: the poster, or the middle thumbnail (320 px). */
function pictureOf(assets: VideoAssets | null, size: PosterSize): { key: string; bytes: number } | undefined {
  if (!assets) return undefined;
  if (size === 'poster') return assets.poster;
  const thumbs = assets.thumbnails ?? [];
  return thumbs[Math.floor(thumbs.length / 2)] ?? assets.poster;
}

async function loadPicture(tx: Tx, platform: Platform, tenantId: string, videoId: string, size: PosterSize): Promise<Picture> {
  const row = await tx.selectFrom('videos').select(['id', 'region', 'assets']).where('id', '=', videoId).executeTakeFirst();
  if (!row) throw notFound('video');
  const stored = pictureOf(row.assets as VideoAssets | null, size);
  if (!stored) throw noPicture();
  const keys = await videoKeys(tx, platform.keyring, tenantId, videoId);
  if (!keys) throw noPicture();
  keys.hlsKey.fill(0);
  const etag = `"${createHash('sha256').update(`${videoId}:${stored.key}:${stored.bytes}`).digest('base64url').slice(0, 27)}"`;
  return { region: row.region as string, key: stored.key, etag, dataKey: keys.dataKey };
}

export function registerPosterRoute(app: HttpServer, deps: { platform: Platform; audit: AuditService }): void {
  const { platform, audit } = deps;
  app.get('/api/v1/videos/:id/poster', {
    schema: {
      tags: ['videos'], summary: 'The video\'s poster (≤ 1280 px) or a thumbnail (≤ 320 px) as JPEG, for members who may read videos',
      description: '404 poster_not_found while the video has no pictures (still processing, failed, audio only). Cache-Control private, max-age=300, with an ETag.',
      params: idParam,
      querystring: z.object({ size: z.enum(posterSizes).default('thumb').describe('thumb (default) or poster') }),
      response: { 200: z.string().describe('image/jpeg'), 304: z.null(), ...errorResponses },
    },
  }, async (req, reply) => {
    const ctx = req.ctx;
    authorize(ctx, 'videos:read');
    const picture = await platform.db.withTenant(ctx.tenantId, async (tx) => {
      const found = await loadPicture(tx, platform, ctx.tenantId, req.params.id, req.query.size);
      await audit.recordStaffRead(tx, ctx, { target: { type: 'video', id: req.params.id }, category: 'private_media' });
      return found;
    });
    reply.header('cache-control', 'private, max-age=300').header('etag', picture.etag);
    if (req.headers['if-none-match'] === picture.etag) {
      picture.dataKey.fill(0);
      return reply.status(304).send(null);
    }
    let ciphertext;
    try {
      ciphertext = await platform.storage.forRegion(picture.region).get(picture.key);
    } catch (err) {
      picture.dataKey.fill(0);
      if (err instanceof ObjectNotFoundError) throw noPicture();
      throw err;
    }
    const plain = ciphertext.pipe(decryptStream(picture.dataKey));
    // A tampered object fails the stream mid-way: the reply ends rather than pass on unverified bytes.
    ciphertext.on('error', (err) => plain.destroy(err));
    plain.once('close', () => picture.dataKey.fill(0));
    return reply.header('content-type', 'image/jpeg').send(plain as unknown as string);
  });
}
