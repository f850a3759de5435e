// GET /api/v1/videos/{id}/playback: the access policy decides; an allowed
// viewer gets a playback token and the URLs to play under it.
import { z } from 'zod';
import { AppError } from '../../../platform/errors.ts';
import type { HttpServer } from '../../../platform/http/server.ts';
import { errorResponses, idParam } from '../../../platform/http/schemas.ts';
import type { Platform } from '../../../platform/platform.ts';
import { type AuditService, isStaffAccess } from '../../audit/service.ts';
import type { RequestContext } from '../../identity/actor.ts';
import { roleAtLeast } from '../../identity/access.ts';
import type { GrantBasis, PlaybackAccess } from '../contracts.ts';
import type { CaptionTracks } from './index.ts';
import { imageUrl, masterUrl } from './paths.ts';
import { playableVideo } from './store.ts';
import type { PlaybackTokens } from './tokens.ts';

const playbackQuery = z.object({
  link: z.string().min(1).max(200).optional().describe('Secret of the unlisted link the viewer came through'),
  referrer: z.string().max(2000).optional().describe('The page embedding the player (defaults to the Referer header)'),
});

export const playbackResponse = z.object({
  url: z.string().describe('Master playlist under the playback token; playlists, segments, key and images need no cookie'),
  token: z.string(),
  expiresAt: z.date(),
  playbackId: z.uuid().describe('This playback; view beacons name it'),
  video: z.object({
    id: z.uuid(),
    title: z.string(),
    durationMs: z.number().nullable(),
    posterUrl: z.string().nullable(),
    storyboardUrl: z.string().nullable(),
  }),
  captions: z.array(z.object({ lang: z.string(), label: z.string(), url: z.string() })),
  beaconUrl: z.string(),
});

interface Deps {
  platform: Platform;
  audit: AuditService;
  access: PlaybackAccess;
  tokens: PlaybackTokens;
  captionTracks: CaptionTracks;
  beaconUrl: string;
}

/** Editors and above of the video's tenant, and platform staff: their playback of private media leaves a trace. */
export function isStaffViewer(ctx: RequestContext, tenantId: string): boolean {
  const a = ctx.actor;
  if (isStaffAccess(a)) return true;
  if (a.type === 'user') return a.tenantId === tenantId && roleAtLeast(a.role, 'editor');
  if (a.type === 'api_token') return a.tenantId === tenantId && roleAtLeast(a.role, 'editor');
  return false;
}

export function registerPlaybackRoute(app: HttpServer, deps: Deps): void {
  const { platform, audit, access, tokens } = deps;

  app.get('/api/v1/videos/:id/playback', {
    schema: {
      tags: ['playback'],
      summary: 'Start playback: checks the access policy and answers a playback token with the master playlist URL',
      params: idParam,
      querystring: playbackQuery,
      response: { 200: playbackResponse, ...errorResponses },
    },
  }, async (req, reply) => {
    const now = platform.clock.now();
    const videoId = req.params.id;
    const referer = req.query.referrer ?? (typeof req.headers.referer === 'string' ? req.headers.referer : undefined);
    const decision = await access.decide(videoId, { ctx: req.ctx, cookies: req.cookies, linkSecret: req.query.link, referer, now });
    if (!decision.allowed) throw new AppError(decision.code, decision.status, decision.message, decision.needs ? { needs: decision.needs, ...decision.details } : decision.details);
    const basis: GrantBasis = decision.basis;
    if (basis.videoId !== videoId) throw new Error('access granted a different video than asked for');

    const video = await platform.db.withTenant(basis.tenantId, async (tx) => {
      const found = await playableVideo(tx, videoId);
      if (!found) return undefined;
      if (found.playableRenditions > 0 && isStaffViewer(req.ctx, basis.tenantId)) {
        await audit.record(tx, { ...req.ctx, tenantId: basis.tenantId }, {
          action: 'video.playback.staff',
          target: { type: 'video', id: videoId },
          details: { viewerKind: basis.viewer.kind, actorType: req.ctx.actor.type, ...(basis.linkId ? { linkId: basis.linkId } : {}) },
          tenantId: basis.tenantId,
        });
      }
      return found;
    });
    if (!video) throw new AppError('video_not_found', 404, 'No video with that id exists.');
    if (video.playableRenditions === 0) throw new AppError('video_not_playable', 409, 'This video is still being processed; try again in a moment.');

    const issued = tokens.issue(basis, { ip: basis.bindIp ? req.ip : undefined });
    reply.header('cache-control', 'private, no-store');
    return {
      url: masterUrl(issued.token),
      token: issued.token,
      expiresAt: issued.expiresAt,
      playbackId: issued.playbackId,
      video: {
        id: video.id,
        title: video.title,
        durationMs: video.durationMs,
        posterUrl: video.hasPoster ? imageUrl(issued.token, 'poster.jpg') : null,
        storyboardUrl: video.hasStoryboard ? imageUrl(issued.token, 'storyboard.vtt') : null,
      },
      captions: await deps.captionTracks(basis.tenantId, videoId, issued.token),
      beaconUrl: deps.beaconUrl,
    };
  });
}
