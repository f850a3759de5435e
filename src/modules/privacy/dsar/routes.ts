// HTTP for data-subject requests: the four intake channels, the admin's
// decisions and listing, the subject's own requests, and the one-time
// export download.
import { z } from 'zod';
import type { HttpServer } from '../../../platform/http/server.ts';
import { errorResponses, idParam } from '../../../platform/http/schemas.ts';
import { adminIntakeSchema, type DsarService, intakeSchema, operatorIntakeSchema, publicIntakeSchema, requestStates, requestTypes, settingsSchema } from './service.ts';

const requestView = z.object({
  id: z.uuid(), tenantId: z.uuid().nullable(), type: z.enum(requestTypes), channel: z.string(), subjectEmail: z.string(), state: z.enum(requestStates),
  note: z.string(), receivedAt: z.date(), dueAt: z.date().describe('Received + one month (GDPR Art. 12(3))'), verifiedAt: z.date().nullable(),
  decidedAt: z.date().nullable(), decisionReason: z.string().nullable(), completedAt: z.date().nullable(), remindersSent: z.number(),
  overdue: z.boolean(), result: z.unknown(),
});
const list = z.object({ items: z.array(requestView) });
const link = z.object({ url: z.string(), expiresAt: z.date() });
const tags = ['privacy'];

export function registerDsarRoutes(app: HttpServer, dsar: DsarService): void {
  app.post('/api/v1/privacy/requests', {
    schema: { tags, summary: 'File a data-subject request about yourself in this organization', body: intakeSchema, response: { 201: requestView, ...errorResponses } },
  }, async (req, reply) => reply.status(201).send(await dsar.createSelf(req.ctx, req.body)));

  app.get('/api/v1/privacy/requests', {
    schema: { tags, summary: 'Your own data-subject requests in this organization', response: { 200: list, ...errorResponses } },
  }, async (req) => ({ items: await dsar.listOwn(req.ctx) }));

  app.post('/api/v1/privacy/requests/:id/export-link', {
    schema: { tags, summary: 'A new one-time download link for the archive of your access request', params: idParam, response: { 200: link, ...errorResponses } },
  }, async (req) => dsar.exportLink(req.ctx, req.params.id, true));

  app.post('/api/v1/privacy/tenant-requests', {
    schema: { tags, summary: 'File a data-subject request on behalf of a person (viewer, registrant, member) identified by email', body: adminIntakeSchema, response: { 201: requestView, ...errorResponses } },
  }, async (req, reply) => reply.status(201).send(await dsar.createForTenant(req.ctx, req.body)));

  app.get('/api/v1/privacy/tenant-requests', {
    schema: { tags, summary: 'This organization\'s data-subject requests, newest first', querystring: z.object({ state: z.enum(requestStates).optional() }), response: { 200: list, ...errorResponses } },
  }, async (req) => ({ items: await dsar.listForTenant(req.ctx, req.query.state) }));

  app.post('/api/v1/privacy/tenant-requests/:id/approve', {
    schema: { tags, summary: 'Approve a pending request (it is then processed); for rectification: confirm the correction was made', params: idParam, body: z.object({ reason: z.string().max(2000).optional() }), response: { 200: requestView, ...errorResponses } },
  }, async (req) => dsar.approve(req.ctx, req.params.id, req.body.reason));

  app.post('/api/v1/privacy/tenant-requests/:id/deny', {
    schema: { tags, summary: 'Deny a pending request, with the reason the subject will be given', params: idParam, body: z.object({ reason: z.string().min(3).max(2000) }), response: { 200: requestView, ...errorResponses } },
  }, async (req) => dsar.deny(req.ctx, req.params.id, req.body.reason));

  app.post('/api/v1/privacy/tenant-requests/:id/export-link', {
    schema: { tags, summary: 'A new one-time download link for an access request\'s archive, to hand to the subject', params: idParam, response: { 200: link, ...errorResponses } },
  }, async (req) => dsar.exportLink(req.ctx, req.params.id, false));

  app.get('/api/v1/privacy/dsar-settings', {
    schema: { tags, summary: 'This organization\'s settings for data-subject requests', response: { 200: z.object({ requireApproval: z.boolean(), exportMediaLimitBytes: z.number() }), ...errorResponses } },
  }, async (req) => dsar.settings(req.ctx));

  app.patch('/api/v1/privacy/dsar-settings', {
    schema: { tags, summary: 'Require admin approval of requests; include media originals in archives up to a size', body: settingsSchema, response: { 200: z.object({ requireApproval: z.boolean(), exportMediaLimitBytes: z.number() }), ...errorResponses } },
  }, async (req) => dsar.updateSettings(req.ctx, req.body));

  app.post('/api/v1/privacy/operator-requests', {
    schema: { tags, summary: 'Platform operators: file a request across tenants (or for one tenant)', body: operatorIntakeSchema, response: { 201: requestView, ...errorResponses } },
  }, async (req, reply) => reply.status(201).send(await dsar.createAsOperator(req.ctx, req.body)));

  app.post('/api/v1/privacy/public-requests', {
    schema: {
      tags, summary: 'File a request without an account: a code is mailed to the address (the answer is the same whether or not we hold data about it)',
      body: publicIntakeSchema, response: { 202: z.object({ id: z.uuid(), state: z.enum(requestStates), codeExpiresAt: z.date() }), ...errorResponses },
    },
    config: { consentExempt: true, enrollmentExempt: true, rateLimit: { max: 10, timeWindow: 60_000 } },
  }, async (req, reply) => reply.status(202).send(await dsar.createPublic(req.ctx, req.body, req.headers['accept-language'])));

  app.post('/api/v1/privacy/public-requests/:id/verify', {
    schema: { tags, summary: 'Confirm the address with the mailed code (valid 10 minutes, 5 attempts)', params: idParam, body: z.object({ code: z.string().max(12) }), response: { 200: z.object({ id: z.uuid(), state: z.enum(requestStates) }), ...errorResponses } },
    config: { consentExempt: true, enrollmentExempt: true, rateLimit: { max: 20, timeWindow: 60_000 } },
  }, async (req) => dsar.verifyPublic(req.ctx, req.params.id, req.body.code));

  app.get('/api/v1/privacy/exports/:token', {
    schema: {
      tags, summary: 'Download an access archive (ZIP) through its one-time link; a used link answers 410 export_link_used',
      params: z.object({ token: z.string().max(200) }), response: { 200: z.any(), ...errorResponses },
    },
    config: { consentExempt: true, enrollmentExempt: true, rateLimit: { max: 20, timeWindow: 60_000 } },
  }, async (req, reply) => {
    const zip = await dsar.download(req.ctx, req.params.token);
    return reply.header('content-type', 'application/zip').header('content-disposition', 'attachment; filename="haven-data-export.zip"').header('cache-control', 'no-store').send(zip);
  });
}
