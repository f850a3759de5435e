// Maintenance notices over HTTP: operators manage them under /platform; the
// current ones are public (the sign-in page shows them too).
import { z } from 'zod';
import type { HttpServer } from '../../platform/http/server.ts';
import { errorResponses, idParam } from '../../platform/http/schemas.ts';
import { newNoticeSchema, noticeSeverities, type NoticeService } from './service.ts';

const message = z.object({ en: z.string(), sv: z.string().optional(), fi: z.string().optional(), de: z.string().optional() });
const noticeView = z.object({ id: z.uuid(), message, severity: z.enum(noticeSeverities), startsAt: z.date(), endsAt: z.date().nullable(), createdAt: z.date() });

export function registerNoticeRoutes(app: HttpServer, notices: NoticeService): void {
  app.get('/api/v1/notices', {
    schema: { tags: ['notices'], summary: 'Maintenance notices in effect now (no sign-in needed)', response: { 200: z.object({ items: z.array(noticeView) }), ...errorResponses } },
    config: { consentExempt: true, enrollmentExempt: true },
  }, async () => ({ items: await notices.current() }));

  app.get('/api/v1/platform/notices', {
    schema: { tags: ['platform'], summary: 'Every maintenance notice, past and upcoming included (platform operators)', response: { 200: z.object({ items: z.array(noticeView) }), ...errorResponses } },
  }, async (req) => ({ items: await notices.list(req.ctx) }));

  app.post('/api/v1/platform/notices', {
    schema: { tags: ['platform'], summary: 'Publish a maintenance notice (platform operators)', body: newNoticeSchema, response: { 201: noticeView, ...errorResponses } },
  }, async (req, reply) => reply.status(201).send(await notices.publish(req.ctx, req.body)));

  app.delete('/api/v1/platform/notices/:id', {
    schema: { tags: ['platform'], summary: 'Withdraw a maintenance notice (platform operators)', params: idParam, response: { 204: z.null(), ...errorResponses } },
  }, async (req, reply) => {
    await notices.withdraw(req.ctx, req.params.id);
    return reply.status(204).send(null);
  });
}
