// Groups over HTTP: admins manage them and who is in them; editors list
// their names to pick them in a video's members rule.
import { z } from 'zod';
import type { HttpServer } from '../../../platform/http/server.ts';
import { errorResponses, idParam } from '../../../platform/http/schemas.ts';
import { roles } from '../users.ts';
import { GROUP_ADD_MAX, GROUP_DESCRIPTION_MAX, GROUP_NAME_MAX, type GroupService } from './service.ts';

const group = z.object({
  id: z.uuid(), name: z.string(), description: z.string(),
  memberCount: z.number().int().describe('People in the group (those in the trash not counted)'),
  createdAt: z.date(), updatedAt: z.date(),
});
const groupMember = z.object({
  id: z.uuid().describe('The person\'s user id'), username: z.string(), email: z.string(), displayName: z.string(),
  role: z.enum(roles), status: z.string(), addedAt: z.date(),
});
const name = z.string().trim().min(1, 'must not be empty').max(GROUP_NAME_MAX, `at most ${GROUP_NAME_MAX} characters`);
const description = z.string().max(GROUP_DESCRIPTION_MAX, `at most ${GROUP_DESCRIPTION_MAX} characters`);
const memberParams = z.object({ id: z.uuid('must be a valid id'), userId: z.uuid('must be a valid id') });

export function registerGroupRoutes(app: HttpServer, groups: GroupService): void {
  app.get('/api/v1/groups', {
    schema: { tags: ['groups'], summary: 'Groups of people in this organization (admins; editors see them to choose a video\'s audience)', response: { 200: z.object({ items: z.array(group) }), ...errorResponses } },
  }, async (req) => ({ items: await groups.list(req.ctx) }));

  app.post('/api/v1/groups', {
    schema: {
      tags: ['groups'], summary: 'Create a group (names are unique in the organization, whatever their case)',
      body: z.object({ name, description: description.optional() }).strict(),
      response: { 201: group, ...errorResponses },
    },
  }, async (req, reply) => reply.status(201).send(await groups.create(req.ctx, req.body)));

  app.get('/api/v1/groups/:id', {
    schema: { tags: ['groups'], summary: 'One group', params: idParam, response: { 200: group, ...errorResponses } },
  }, async (req) => groups.get(req.ctx, req.params.id));

  app.patch('/api/v1/groups/:id', {
    schema: {
      tags: ['groups'], summary: 'Rename a group or change its description', params: idParam,
      body: z.object({ name: name.optional(), description: description.optional() }).strict(),
      response: { 200: group, ...errorResponses },
    },
  }, async (req) => groups.update(req.ctx, req.params.id, req.body));

  app.delete('/api/v1/groups/:id', {
    schema: { tags: ['groups'], summary: 'Delete a group: its people stay in the organization; videos open to the group no longer admit anyone through it', params: idParam, response: { 204: z.null(), ...errorResponses } },
  }, async (req, reply) => {
    await groups.remove(req.ctx, req.params.id);
    return reply.status(204).send(null);
  });

  app.get('/api/v1/groups/:id/members', {
    schema: { tags: ['groups'], summary: 'The people in a group', params: idParam, response: { 200: z.object({ items: z.array(groupMember) }), ...errorResponses } },
  }, async (req) => ({ items: await groups.members(req.ctx, req.params.id) }));

  app.post('/api/v1/groups/:id/members', {
    schema: {
      tags: ['groups'], summary: 'Add people of this organization to a group (those already in it stay as they are)', params: idParam,
      body: z.object({ userIds: z.array(z.uuid('must be a valid id')).min(1, 'name at least one person').max(GROUP_ADD_MAX, `at most ${GROUP_ADD_MAX} at a time`) }).strict(),
      response: { 200: z.object({ added: z.array(z.uuid()).describe('Who was not in the group before'), items: z.array(groupMember) }), ...errorResponses },
    },
  }, async (req) => {
    const { added, members } = await groups.addMembers(req.ctx, req.params.id, req.body.userIds);
    return { added, items: members };
  });

  app.delete('/api/v1/groups/:id/members/:userId', {
    schema: { tags: ['groups'], summary: 'Remove a person from a group: playback they started through the group stops at its next key fetch', params: memberParams, response: { 204: z.null(), ...errorResponses } },
  }, async (req, reply) => {
    await groups.removeMember(req.ctx, req.params.id, req.params.userId);
    return reply.status(204).send(null);
  });
}
