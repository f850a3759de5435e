// Everything under /play: every request's token is verified (signature,
// expiry, video, bound IP) before storage is touched; the key and the images
// — the things that reveal the picture — also recheck the grant itself, so a
// revoked link or a changed policy stops them at once. Segments are
// ciphertext: served with long, public caching, optionally handed to a
// reverse proxy to send (X-Accel-Redirect / X-Sendfile).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../../platform/errors.ts';
import type { HttpServer } from '../../../platform/http/server.ts';
import type { Platform } from '../../../platform/platform.ts';
import { decryptStream } from '../../../platform/crypto/stream.ts';
import { parseRange } from '../../../platform/storage/signed-urls.ts';
import { ByteRangeNotSatisfiableError, ObjectNotFoundError, type ObjectStore } from '../../../platform/storage/types.ts';
import type { AuditService } from '../../audit/service.ts';
import { videoKeys } from '../../media/keys.ts';
import { imageKey, masterPlaylistKey, renditionPrefix } from '../../media/objects.ts';
import type { PlaybackAccess, PlaybackGrant } from '../contracts.ts';
import type { TtlCache, VideoKeyCache } from './key-cache.ts';
import type { MediaReader } from './media-file.ts';
import { PLAY_PREFIX, parsePlayPath, rewriteMediaPlaylist, rewriteStoryboardVtt } from './paths.ts';
import { type PlaybackTokens, sameIp } from './tokens.ts';

interface Deps {
  platform: Platform;
  audit: AuditService;
  access: PlaybackAccess;
  tokens: PlaybackTokens;
  keys: VideoKeyCache;
  /** Stored playlists and storyboard WebVTT by object key. */
  texts: TtlCache<string>;
  /** Segment and init bytes (pooled buffers for the filesystem driver). */
  media: MediaReader;
}

const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';
const IMMUTABLE = 'public, max-age=31536000, immutable';
const NO_STORE = 'private, no-store';

const tokenInvalid = () => new AppError('playback_token_invalid', 403, 'This playback link is invalid; start playback again.');
const tokenExpired = () => new AppError('playback_token_expired', 403, 'This playback link has expired; start playback again.');
const notHere = () => new AppError('playback_object_not_found', 404, 'Nothing is stored at this playback address.');

export function registerPlayRoutes(app: HttpServer, deps: Deps): void {
  const { platform, audit, access, tokens, keys, texts, media } = deps;
  const offload = platform.config.playbackOffload;
  const offloadPrefix = platform.config.playbackOffloadPrefix;

  /** The grant under which this request is served, or the 403 that says why not. */
  function grantFor(req: FastifyRequest, token: string, videoId?: string): PlaybackGrant {
    const checked = tokens.check(token, platform.clock.now());
    if ('problem' in checked) throw checked.problem === 'expired' ? tokenExpired() : tokenInvalid();
    const { grant } = checked;
    if (videoId !== undefined && grant.videoId !== videoId) {
      throw new AppError('playback_token_wrong_video', 403, 'This playback link belongs to another video.');
    }
    if (grant.bindIp && (!grant.ip || !sameIp(grant.ip, req.ip))) {
      throw new AppError('playback_token_ip_mismatch', 403, 'This playback link only works from the network it was opened on; start playback again.');
    }
    return grant;
  }

  /** Key and images: the grant must still hold now (link not revoked, policy unchanged). */
  async function stillValid(req: FastifyRequest, grant: PlaybackGrant, what: 'key' | 'image'): Promise<void> {
    if (await access.stillValid(grant, platform.clock.now())) return;
    if (what === 'key') {
      await audit.recordNow({ ...req.ctx, tenantId: grant.tenantId }, {
        action: 'playback.key.denied',
        outcome: 'denied',
        target: { type: 'video', id: grant.videoId },
        details: { reason: 'grant_no_longer_valid', playbackId: grant.playbackId, viewerKind: grant.viewer.kind, ...(grant.linkId ? { linkId: grant.linkId } : {}) },
        tenantId: grant.tenantId,
      });
    }
    throw new AppError('playback_grant_revoked', 403, 'Access to this video has changed since playback started; start playback again.');
  }

  // With a generation: that ladder's HLS key (media/keys.ts), which never changes, so its cache entry cannot go stale.
  const keysOf = (grant: PlaybackGrant, generation?: number) =>
    keys.get(`${grant.tenantId}/${grant.videoId}${generation === undefined ? '' : `/g${generation}`}`, () => platform.db.withTenant(grant.tenantId, (tx) => videoKeys(tx, platform.keyring, grant.tenantId, grant.videoId, generation)));

  const storeOf = (grant: PlaybackGrant): ObjectStore => platform.storage.forRegion(grant.region);

  async function readText(store: ObjectStore, key: string): Promise<string> {
    const text = await texts.get(key, async () => {
      try {
        const chunks: Buffer[] = [];
        for await (const c of await store.get(key)) chunks.push(c as Buffer);
        return Buffer.concat(chunks).toString('utf8');
      } catch (err) {
        if (err instanceof ObjectNotFoundError) return undefined;
        throw err;
      }
    });
    if (text === undefined) throw notHere();
    return text;
  }

  async function sendMedia(req: FastifyRequest, reply: FastifyReply, grant: PlaybackGrant, rendition: string, file: string) {
    const store = storeOf(grant);
    const key = `${renditionPrefix(grant.tenantId, grant.videoId, rendition)}${file}`;
    const type = file.endsWith('.mp4') ? 'video/mp4' : 'video/iso.segment';
    if (offload !== 'none') {
      reply.header('cache-control', IMMUTABLE).header('content-type', type);
      // The proxy sends the bytes (ranges, ETag and 404 included); Haven has checked the token.
      const target = offload === 'x-sendfile' ? store.localPath!(key) : `${offloadPrefix}${grant.region}/${key}`;
      reply.header(offload === 'x-sendfile' ? 'x-sendfile' : 'x-accel-redirect', target);
      return reply.send('');
    }
    const info = await store.head(key);
    if (!info) throw notHere();
    const etag = `"${info.etag}"`;
    reply.header('etag', etag).header('accept-ranges', 'bytes').header('last-modified', info.modified.toUTCString()).header('cache-control', IMMUTABLE);
    if (matchesEtag(req.headers['if-none-match'], etag)) return reply.status(304).send();
    let range: { start: number; end: number } | undefined;
    try {
      range = parseRange(req.headers.range, info.size);
    } catch (err) {
      reply.header('content-range', `bytes */${info.size}`).header('cache-control', 'no-store');
      throw err;
    }
    reply.header('content-type', type);
    try {
      const start = range?.start ?? 0;
      const length = range ? range.end - range.start + 1 : info.size;
      const body = await media.read(store, key, start, length, info.size);
      if (range) reply.status(206).header('content-range', `bytes ${range.start}-${range.end}/${info.size}`);
      // 'finish': every byte is with the socket, so the pooled buffer may be reused (not after an abort).
      if (body.release) reply.raw.once('finish', body.release);
      return reply.header('content-length', length).send(body.payload);
    } catch (err) {
      if (err instanceof ObjectNotFoundError) throw notHere();
      if (err instanceof ByteRangeNotSatisfiableError) throw new AppError('range_not_satisfiable', 416, 'The requested byte range is outside the object.');
      throw err;
    }
  }

  async function sendImage(req: FastifyRequest, reply: FastifyReply, grant: PlaybackGrant, token: string, file: string) {
    await stillValid(req, grant, 'image');
    const store = storeOf(grant);
    // Decrypted pictures: the viewer's browser may keep them, a shared cache may not.
    reply.header('cache-control', 'private, max-age=300');
    if (file === 'storyboard.vtt') {
      const vtt = await readText(store, imageKey(grant.tenantId, grant.videoId, 'storyboard.vtt'));
      return reply.header('content-type', 'text/vtt; charset=utf-8').send(rewriteStoryboardVtt(vtt, token));
    }
    const found = await keysOf(grant);
    if (!found) throw notHere();
    let ciphertext;
    try {
      ciphertext = await store.get(imageKey(grant.tenantId, grant.videoId, `${file}.hvn`));
    } catch (err) {
      if (err instanceof ObjectNotFoundError) throw notHere();
      throw err;
    }
    const plain = ciphertext.pipe(decryptStream(found.dataKey));
    // A tampered object fails the stream mid-way: end the reply rather than pass on unverified bytes.
    ciphertext.on('error', (err) => plain.destroy(err));
    return reply.header('content-type', 'image/jpeg').send(plain);
  }

  app.get(`${PLAY_PREFIX}/*`, {
    schema: { hide: true },
    // Token-checked and cheap; a player fetches a segment every few seconds, many viewers share one address.
    config: { rateLimit: false, tokenAuthenticated: true },
    logLevel: 'warn',
  }, async (req, reply) => {
    const rest = (req.params as { '*': string })['*'];
    const q = req.query as { token?: unknown };
    const path = parsePlayPath(rest, typeof q.token === 'string' ? q.token : undefined);
    if (!path) {
      // A token-shaped first segment with an unknown file is still a bad address, not a bad token.
      throw new AppError('playback_object_not_found', 404, 'Nothing is served at this playback address.');
    }
    const grant = grantFor(req, path.token, path.kind === 'media' ? path.videoId : undefined);
    switch (path.kind) {
      case 'master': {
        const text = await readText(storeOf(grant), masterPlaylistKey(grant.tenantId, grant.videoId));
        return reply.header('cache-control', NO_STORE).header('content-type', PLAYLIST_TYPE).send(text);
      }
      case 'media-playlist': {
        const text = await readText(storeOf(grant), `${renditionPrefix(grant.tenantId, grant.videoId, path.rendition)}index.m3u8`);
        return reply.header('cache-control', NO_STORE).header('content-type', PLAYLIST_TYPE).send(rewriteMediaPlaylist(text, grant.videoId, path.rendition, path.token));
      }
      case 'media':
        return sendMedia(req, reply, grant, path.rendition, path.file);
      case 'key': {
        await stillValid(req, grant, 'key');
        // A playlist's key URI without a generation is one of the first ladder (generation 0).
        const found = await keysOf(grant, path.generation ?? 0);
        if (!found) throw notHere();
        return reply.header('cache-control', 'no-store').header('content-type', 'application/octet-stream').send(found.hlsKey);
      }
      case 'image':
        return sendImage(req, reply, grant, path.token, path.file);
    }
  });
}

/** If-None-Match against a strong validator (weak comparison, as RFC 9110 asks for GET). */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}
