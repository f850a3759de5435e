// Tenant admins manage the people of their organization.
import { z } from 'zod';
import type { HttpServer } from '../../../platform/http/server.ts';
import { errorResponses, idParam } from '../../../platform/http/schemas.ts';
import type { PeopleService } from '../people.ts';
import { roles } from '../users.ts';

const member = z.object({
  id: z.uuid(), username: z.string(), email: z.string(), displayName: z.string(), role: z.enum(roles), status: z.string(),
  language: z.string(), emailVerified: z.boolean(), twoFactor: z.boolean(), memberSince: z.date(),
});

export function registerPeopleRoutes(app: HttpServer, people: PeopleService): void {
  app.get('/api/v1/users', { schema: { tags: ['users'], summary: 'People in this organization', response: { 200: z.object({ items: z.array(member) }), ...errorResponses } } }, async (req) => ({ items: await people.list(req.ctx) }));

  app.post('/api/v1/users', {
    schema: {
      tags: ['users'],
      summary: 'Add a person (they set a password through the reset or invitation flow)',
      body: z.object({ email: z.string().max(320), username: z.string().max(64).optional(), displayName: z.string().max(200).optional(), role: z.enum(roles) }),
      response: { 201: member, ...errorResponses },
    },
  }, async (req, reply) => reply.status(201).send(await people.add(req.ctx, req.body)));

  app.get('/api/v1/users/:id', { schema: { tags: ['users'], summary: 'One person', params: idParam, response: { 200: member, ...errorResponses } } }, async (req) => people.get(req.ctx, req.params.id));

  app.patch('/api/v1/users/:id', {
    schema: { tags: ['users'], summary: 'Change a person\'s role or status', params: idParam, body: z.object({ role: z.enum(roles).optional(), status: z.enum(['active', 'disabled']).optional() }).strict(), response: { 200: member, ...errorResponses } },
  }, async (req) => people.update(req.ctx, req.params.id, req.body));

  app.delete('/api/v1/users/:id', { schema: { tags: ['users'], summary: 'Remove a person from this organization: to the trash (signed out at once, restorable by an admin until the trash window ends)', params: idParam, response: { 204: z.null(), ...errorResponses } } }, async (req, reply) => {
    await people.remove(req.ctx, req.params.id);
    return reply.status(204).send(null);
  });

  app.delete('/api/v1/users/:id/sessions', { schema: { tags: ['users'], summary: 'End all of a person\'s sessions in this organization', params: idParam, response: { 200: z.object({ ended: z.number() }), ...errorResponses } } }, async (req) => ({ ended: await people.endSessions(req.ctx, req.params.id) }));
}
