// An organization's custom metadata fields: everyone reads them, admins
// define them.
import { z } from 'zod';
import type { HttpServer } from '../../../platform/http/server.ts';
import { errorResponses, idParam } from '../../../platform/http/schemas.ts';
import { customFieldTypes } from '../custom-field-values.ts';
import { customFieldCreateSchema, type CustomFieldService, customFieldUpdateSchema } from '../custom-fields.ts';

const definition = z.object({
  id: z.uuid(), key: z.string(), label: z.string(), type: z.enum(customFieldTypes), choices: z.array(z.string()), position: z.number(), createdAt: z.date(), updatedAt: z.date(),
});

export function registerCustomFieldRoutes(app: HttpServer, fields: CustomFieldService): void {
  app.get('/api/v1/custom-fields', {
    schema: { tags: ['custom fields'], summary: 'The custom metadata fields videos of this organization can have', response: { 200: z.object({ items: z.array(definition) }), ...errorResponses } },
  }, async (req) => ({ items: await fields.list(req.ctx) }));

  app.post('/api/v1/custom-fields', {
    schema: { tags: ['custom fields'], summary: 'Define a custom field (text, number, date or choice); admins', body: customFieldCreateSchema, response: { 201: definition, ...errorResponses } },
  }, async (req, reply) => reply.status(201).send(await fields.create(req.ctx, req.body)));

  app.patch('/api/v1/custom-fields/:id', {
    schema: { tags: ['custom fields'], summary: 'Change a field\'s label, choices or position (key and type are fixed); admins', params: idParam, body: customFieldUpdateSchema, response: { 200: definition, ...errorResponses } },
  }, async (req) => fields.update(req.ctx, req.params.id, req.body));

  app.delete('/api/v1/custom-fields/:id', {
    schema: { tags: ['custom fields'], summary: 'Delete a field and its values on every video; admins', params: idParam, response: { 200: z.object({ valuesRemoved: z.number() }), ...errorResponses } },
  }, async (req) => ({ valuesRemoved: await fields.remove(req.ctx, req.params.id) }));
}
