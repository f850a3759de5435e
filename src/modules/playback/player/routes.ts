// HTTP for the player: the /watch and /embed pages, the browser assets, the
// caption API for editors, and the caption files players read under a
// playback token.
import { z } from 'zod';
import { AppError } from '../../../platform/errors.ts';
import type { HttpServer } from '../../../platform/http/server.ts';
import { errorResponses, idParam } from '../../../platform/http/schemas.ts';
import { allowFraming } from '../../../platform/http/security.ts';
import type { Clock } from '../../../platform/platform.ts';
import type { PlaybackAccess, PlaybackTokenVerifier } from '../contracts.ts';
import type { PlayerAssets } from './assets.ts';
import { CAPTIONS_MAX_BYTES, type CaptionService } from './captions.ts';
import { pageLanguage, renderPlayerPage } from './pages.ts';

export interface PlayerRouteDeps {
  assets: PlayerAssets;
  captions: CaptionService;
  /** The delivery part's token verifier. */
  tokens: PlaybackTokenVerifier;
  /** The access part: who may frame the embed page, and whether a grant still holds. */
  access: Pick<PlaybackAccess, 'frameAncestors' | 'stillValid'>;
  clock: Clock;
}

const track = z.object({ lang: z.string(), label: z.string(), bytes: z.number(), createdBy: z.uuid().nullable(), createdAt: z.date() });
const langParams = z.object({ id: z.uuid('must be a valid id'), lang: z.string().min(2).max(35).describe('BCP 47 language tag, e.g. en, sv, pt-BR') });
const pageQuery = z.object({
  lang: z.string().max(35).optional(),
  link: z.string().max(200).optional(),
}).loose();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function registerPlayerRoutes(app: HttpServer, deps: PlayerRouteDeps): Promise<void> {
  const { assets, captions, tokens, access, clock } = deps;

  // --- pages -------------------------------------------------------------
  const page = (mode: 'watch' | 'embed') => async (req: { params: { id: string }; query: z.infer<typeof pageQuery>; headers: Record<string, string | string[] | undefined> }, reply: any) => {
    const lang = pageLanguage(req.query.lang, typeof req.headers['accept-language'] === 'string' ? req.headers['accept-language'] : undefined);
    if (!UUID.test(req.params.id)) throw new AppError('video_not_found', 404, 'No video with that id exists.');
    if (mode === 'embed') allowFraming(reply, await access.frameAncestors(req.params.id.toLowerCase()));
    reply.type('text/html; charset=utf-8').header('cache-control', 'private, no-cache').header('vary', 'accept-language');
    return renderPlayerPage(assets, { mode, videoId: req.params.id.toLowerCase(), lang, link: req.query.link });
  };
  const pageSchema = { hide: true, params: z.object({ id: z.string().max(64) }), querystring: pageQuery };
  app.get('/watch/:id', { schema: pageSchema }, page('watch'));
  app.get('/embed/:id', { schema: pageSchema }, page('embed'));

  // --- assets ------------------------------------------------------------
  app.get('/player/assets/*', { schema: { hide: true }, config: { rateLimit: false } as Record<string, unknown> }, async (req, reply) => {
    const path = (req.params as { '*': string })['*'];
    const versioned = /^v\/([A-Za-z0-9]{1,32})\/(.+)$/.exec(path);
    const name = versioned ? versioned[2]! : path;
    const asset = assets.get(name);
    if (!asset) throw new AppError('asset_not_found', 404, 'No player file by that name.');
    // An old version's URL (a page from before an upgrade) still gets today's file, but not for a year.
    const immutable = versioned?.[1] === assets.version;
    reply
      .type(asset.contentType)
      .header('etag', asset.etag)
      .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'public, no-cache');
    if (req.headers['if-none-match'] === asset.etag) return reply.status(304).send();
    return reply.send(asset.body);
  });

  // --- caption API ---------------------------------------------------------
  app.get('/api/v1/videos/:id/captions', {
    schema: { tags: ['captions'], summary: 'Caption tracks of a video', params: idParam, response: { 200: z.object({ items: z.array(track) }), ...errorResponses } },
  }, async (req) => ({ items: await captions.list(req.ctx, req.params.id) }));

  app.delete('/api/v1/videos/:id/captions/:lang', {
    schema: { tags: ['captions'], summary: 'Delete a caption track', params: langParams, response: { 204: z.null(), ...errorResponses } },
  }, async (req, reply) => {
    await captions.remove(req.ctx, req.params.id, req.params.lang);
    return reply.status(204).send(null);
  });

  // Its own scope: the body is the WebVTT file, read as text whatever the
  // Content-Type says (text/vtt is expected; the file is judged by its content).
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: CAPTIONS_MAX_BYTES }, (_req, body, done) => done(null, body));
    (scope as HttpServer).put('/api/v1/videos/:id/captions/:lang', {
      schema: {
        tags: ['captions'],
        summary: `Add or replace a video's captions in one language: the body is a WebVTT file (text/vtt, at most ${CAPTIONS_MAX_BYTES / 1024 / 1024} MiB)`,
        params: langParams,
        querystring: z.object({ label: z.string().max(100).optional().describe('Shown in the player\'s captions menu; the language\'s own name when left out') }),
        body: z.string().optional().describe('The WebVTT file'),
        response: { 200: track, 201: track, ...errorResponses },
      },
    }, async (req, reply) => {
      const body = typeof req.body === 'string' ? req.body : '';
      const { track: saved, created } = await captions.put(req.ctx, req.params.id, req.params.lang, body, req.query.label);
      return reply.status(created ? 201 : 200).send(saved);
    });
  });

  // --- caption files for players --------------------------------------------
  app.get('/play/:token/captions/:file', {
    schema: { hide: true, params: z.object({ token: z.string().max(1000), file: z.string().max(50) }) },
  }, async (req, reply) => {
    const now = clock.now();
    const grant = tokens.verify(req.params.token, now);
    if (!grant) throw new AppError('playback_token_invalid', 403, 'The playback token is invalid or has expired; ask for playback again.');
    if (grant.bindIp && grant.ip !== req.ip) throw new AppError('playback_token_invalid', 403, 'The playback token was issued to another network address.');
    if (!(await access.stillValid(grant, now))) throw new AppError('playback_revoked', 403, 'Access to this video has changed; ask for playback again.');
    const m = /^(.+)\.vtt$/.exec(req.params.file);
    if (!m) throw new AppError('captions_not_found', 404, 'The video has no captions in that language.');
    const vtt = await captions.openForGrant(grant, m[1]!);
    const maxAge = Math.max(0, Math.floor((grant.expiresAt.getTime() - now.getTime()) / 1000));
    return reply.type('text/vtt; charset=utf-8').header('cache-control', `private, max-age=${maxAge}`).send(vtt);
  });
}
