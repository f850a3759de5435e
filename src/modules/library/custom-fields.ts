// Custom metadata fields an organization defines for its videos (text,
// number, date or a choice from a list). Admins define them; editors fill
// them in per video. A field's key and type are fixed once created, so
// stored values never change meaning; deleting a field removes its values.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Tx } from '../../platform/db/database.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import type { Platform } from '../../platform/platform.ts';
import type { AuditService } from '../audit/service.ts';
import type { RequestContext } from '../identity/actor.ts';
import { authorize } from '../identity/access.ts';
import { type CustomFieldDefinition, customFieldTypes } from './custom-field-values.ts';

export const MAX_FIELDS_PER_TENANT = 100;

const choiceList = z.array(z.string().trim().min(1, 'a choice must not be empty').max(100, 'a choice may be at most 100 characters'))
  .min(1, 'a choice field needs at least one choice')
  .max(200, 'a choice field may have at most 200 choices')
  .refine((c) => new Set(c).size === c.length, 'choices must be unique');

export const customFieldCreateSchema = z.object({
  key: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'key must be 1–40 lowercase letters, digits or underscores, starting with a letter'),
  label: z.string().trim().min(1, 'label must not be empty').max(100, 'label may be at most 100 characters'),
  type: z.enum(customFieldTypes),
  choices: choiceList.optional().describe('Required for type choice, not allowed otherwise'),
  position: z.number().int().min(0).max(10_000).optional(),
}).strict();

export const customFieldUpdateSchema = z.object({
  label: z.string().trim().min(1).max(100).optional(),
  choices: choiceList.optional().describe('The full new list; a choice still used by a video cannot be removed'),
  position: z.number().int().min(0).max(10_000).optional(),
}).strict();

const toDefinition = (r: Record<string, any>): CustomFieldDefinition => ({
  id: r.id, key: r.key, label: r.label, type: r.type, choices: r.choices, position: r.position, createdAt: r.created_at, updatedAt: r.updated_at,
});

export async function definitionsOf(tx: Tx, tenantId: string): Promise<CustomFieldDefinition[]> {
  const rows = await tx.selectFrom('custom_field_definitions').selectAll().where('tenant_id', '=', tenantId).orderBy('position').orderBy('key').execute();
  return rows.map(toDefinition);
}

async function requireDefinition(tx: Tx, tenantId: string, id: string): Promise<CustomFieldDefinition> {
  const row = await tx.selectFrom('custom_field_definitions').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).forUpdate().executeTakeFirst();
  if (!row) throw notFound('custom_field');
  return toDefinition(row);
}

const audited = (d: CustomFieldDefinition) => ({ key: d.key, label: d.label, type: d.type, choices: d.choices, position: d.position });

export function createCustomFieldService(platform: Platform, audit: AuditService) {
  const { db } = platform;
  return {
    async list(ctx: RequestContext): Promise<CustomFieldDefinition[]> {
      authorize(ctx, 'videos:read');
      return db.withTenant(ctx.tenantId, (tx) => definitionsOf(tx, ctx.tenantId));
    },

    async create(ctx: RequestContext, input: unknown): Promise<CustomFieldDefinition> {
      authorize(ctx, 'tenant:write');
      const field = customFieldCreateSchema.parse(input);
      if ((field.type === 'choice') !== Boolean(field.choices)) {
        throw new AppError('invalid_custom_field', 400, field.type === 'choice' ? 'A choice field needs its choices.' : `A ${field.type} field has no choices.`);
      }
      return db.withTenant(ctx.tenantId, async (tx) => {
        // Serializes definitions per tenant, so the count below stays true until commit.
        await sql`select pg_advisory_xact_lock(hashtext(${`custom-fields:${ctx.tenantId}`}))`.execute(tx);
        const existing = await definitionsOf(tx, ctx.tenantId);
        if (existing.some((d) => d.key === field.key)) throw new AppError('custom_field_exists', 409, `A custom field with key "${field.key}" already exists.`);
        if (existing.length >= MAX_FIELDS_PER_TENANT) throw new AppError('too_many_custom_fields', 409, `An organization may define at most ${MAX_FIELDS_PER_TENANT} custom fields.`);
        const row = await tx
          .insertInto('custom_field_definitions')
          .values({ id: randomUUID(), tenant_id: ctx.tenantId, key: field.key, label: field.label, type: field.type, choices: field.choices ?? [], position: field.position ?? existing.length })
          .returningAll()
          .executeTakeFirstOrThrow();
        const created = toDefinition(row);
        await audit.record(tx, ctx, { action: 'custom_field.create', target: { type: 'custom_field', id: created.id }, diff: { before: null, after: audited(created) } });
        return created;
      });
    },

    async update(ctx: RequestContext, id: string, input: unknown): Promise<CustomFieldDefinition> {
      authorize(ctx, 'tenant:write');
      const change = customFieldUpdateSchema.parse(input);
      return db.withTenant(ctx.tenantId, async (tx) => {
        const before = await requireDefinition(tx, ctx.tenantId, id);
        if (change.choices) {
          if (before.type !== 'choice') throw new AppError('invalid_custom_field', 400, `A ${before.type} field has no choices.`);
          const removed = before.choices.filter((c) => !change.choices!.includes(c));
          if (removed.length) {
            const inUse = await tx.selectFrom('videos').select('id').where('tenant_id', '=', ctx.tenantId)
              .where(sql<boolean>`custom_fields ->> ${before.key} = any(${removed}::text[])`).limit(1).executeTakeFirst();
            if (inUse) throw new AppError('choice_in_use', 409, 'A choice being removed is still set on videos; change those videos first.');
          }
        }
        const row = await tx
          .updateTable('custom_field_definitions')
          .set({ label: change.label ?? before.label, choices: change.choices ?? before.choices, position: change.position ?? before.position, updated_at: sql`now()` })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirstOrThrow();
        const after = toDefinition(row);
        await audit.record(tx, ctx, { action: 'custom_field.update', target: { type: 'custom_field', id }, diff: { before: audited(before), after: audited(after) } });
        return after;
      });
    },

    /** Deletes the field and removes its values from every video; returns how many videos lost a value. */
    async remove(ctx: RequestContext, id: string): Promise<number> {
      authorize(ctx, 'tenant:write');
      return db.withTenant(ctx.tenantId, async (tx) => {
        const before = await requireDefinition(tx, ctx.tenantId, id);
        const cleared = await tx
          .updateTable('videos')
          .set({ custom_fields: sql`custom_fields - ${before.key}::text`, updated_at: sql`now()` })
          .where('tenant_id', '=', ctx.tenantId)
          .where(sql<boolean>`custom_fields ? ${before.key}::text`)
          .executeTakeFirst();
        await tx.deleteFrom('custom_field_definitions').where('id', '=', id).execute();
        const videos = Number(cleared.numUpdatedRows);
        await audit.record(tx, ctx, { action: 'custom_field.delete', target: { type: 'custom_field', id }, diff: { before: audited(before), after: null }, details: { valuesRemoved: videos } });
        return videos;
      });
    },
  };
}

export type CustomFieldService = ReturnType<typeof createCustomFieldService>;
