// HTTP: the beacon endpoint players report to, the tenant's analytics
// settings, the dashboards' figures and the CSV export.
import { z } from 'zod';
import { AppError } from '../../../platform/errors.ts';
import type { HttpServer } from '../../../platform/http/server.ts';
import { errorResponses, idParam } from '../../../platform/http/schemas.ts';
import type { PlaybackGrant, PlaybackTokenVerifier } from '../contracts.ts';
import { beaconSchema, type Ingest, MAX_BEACON_BYTES } from './ingest.ts';
import type { WindowLimiter } from './limiter.ts';
import { exportQuery, rangeQuery, reportSchema, type Reports } from './reports.ts';
import { type SettingsService, settingsSchema, settingsView } from './settings.ts';
import { plainIp } from './viewer.ts';

export interface BeaconLimits {
  perPlaybackPerMinute: number;
  perAddressPerMinute: number;
  /** How long after its token expired a view may still report (the last beacons of a long view). */
  graceMs: number;
}

export interface AnalyticsRouteDeps {
  ingest: Ingest;
  settings: SettingsService;
  reports: Reports;
  tokens: PlaybackTokenVerifier;
  limiter: WindowLimiter;
  limits: BeaconLimits;
}

const tokenInvalid = () => new AppError('playback_token_invalid', 403, 'The playback token is invalid or expired, or belongs to another playback.');

export async function registerAnalyticsRoutes(app: HttpServer, deps: AnalyticsRouteDeps): Promise<void> {
  const { ingest, settings, reports, tokens, limiter, limits } = deps;

  function tooMany(reply: { header(name: string, value: string): unknown }): AppError {
    reply.header('retry-after', String(Math.ceil(limiter.retryAfterMs() / 1000)));
    return new AppError('rate_limited', 429, 'Too many beacons; slow down.', { retryAfterSeconds: Math.ceil(limiter.retryAfterMs() / 1000) });
  }

  // Beacons: navigator.sendBeacon sends text/plain (a string body) or the Blob's type; both carry JSON.
  await app.register(async (scope: HttpServer) => {
    scope.removeContentTypeParser('text/plain');
    scope.addContentTypeParser('text/plain', { parseAs: 'string', bodyLimit: MAX_BEACON_BYTES }, (_req, body, done) => {
      try {
        done(null, JSON.parse(body as string));
      } catch {
        done(new AppError('malformed_json', 400, 'The beacon is not valid JSON.'), undefined);
      }
    });
    scope.post('/api/v1/playback/beacons', {
      bodyLimit: MAX_BEACON_BYTES,
      // The global limiter costs a database round trip per request; beacons are bounded below instead.
      // The token is the credential: a session cookie the browser sends along
      // (sendBeacon always does) neither identifies the viewer here nor needs CSRF.
      config: { rateLimit: false, tokenAuthenticated: true },
      schema: {
        tags: ['analytics'],
        summary: 'Report what a viewer watched (the player calls this; the playback token is the credential)',
        description: 'JSON body as application/json or text/plain (navigator.sendBeacon), at most 16 KB. Honors DNT / Sec-GPC as the tenant\'s analytics settings say.',
        body: beaconSchema,
        response: { 204: z.null().describe('Recorded'), 413: errorResponses[400], 503: errorResponses[400], ...errorResponses },
      },
    }, async (req, reply) => {
      const ip = plainIp(req.ip);
      // The address is a key in this node's memory for at most a minute, never stored or logged.
      if (!limiter.hit(`a:${ip}`, limits.perAddressPerMinute)) throw tooMany(reply);
      const now = new Date();
      const grant: PlaybackGrant | undefined = tokens.verify(req.body.token, new Date(now.getTime() - limits.graceMs));
      if (!grant || grant.playbackId !== req.body.playbackId) throw tokenInvalid();
      if (grant.bindIp && grant.ip && plainIp(grant.ip) !== ip) throw tokenInvalid();
      if (!limiter.hit(`p:${grant.playbackId}`, limits.perPlaybackPerMinute)) throw tooMany(reply);
      const h = req.headers;
      await ingest.accept(grant, req.body, { ip, userAgent: h['user-agent'], doNotTrack: h.dnt === '1' || h['sec-gpc'] === '1' }, now);
      return reply.status(204).send(null);
    });
  });

  app.get('/api/v1/analytics/settings', {
    schema: { tags: ['analytics'], summary: 'What view analytics may record about viewers in this organization; admins', response: { 200: settingsView, ...errorResponses } },
  }, async (req) => settings.get(req.ctx));

  app.put('/api/v1/analytics/settings', {
    schema: { tags: ['analytics'], summary: 'Set what view analytics may record (IP mode, retention, Do Not Track, user agent); admins', body: settingsSchema, response: { 200: settingsView, ...errorResponses } },
  }, async (req) => settings.update(req.ctx, req.body));

  app.get('/api/v1/analytics/summary', {
    schema: { tags: ['analytics'], summary: 'Views, unique viewers (estimate), watch time, completion, geography, devices and quality of all videos, per day', querystring: rangeQuery, response: { 200: reportSchema, ...errorResponses } },
  }, async (req) => reports.summary(req.ctx, req.query));

  app.get('/api/v1/analytics/videos/:id', {
    schema: { tags: ['analytics'], summary: 'The same figures for one video', params: idParam, querystring: rangeQuery, response: { 200: reportSchema, ...errorResponses } },
  }, async (req) => reports.video(req.ctx, req.params.id, req.query));

  app.get('/api/v1/analytics/export.csv', {
    schema: {
      tags: ['analytics'], summary: 'Per day per video figures as CSV (audited)', querystring: exportQuery,
      produces: ['text/csv'], response: { 200: z.any().describe('text/csv'), ...errorResponses },
    },
  }, async (req, reply) => {
    const stream = await reports.exportCsv(req.ctx, req.query);
    const name = `analytics-${req.query.from ?? 'recent'}-${req.query.to ?? 'today'}.csv`.replace(/[^a-zA-Z0-9._-]/g, '');
    return reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}"`).header('cache-control', 'no-store').send(stream);
  });
}
