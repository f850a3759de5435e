// Maintenance notices: operators publish, list and withdraw them (each change
// audited in the platform chain); everybody, signed in or not, reads the ones
// in effect now.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AppError, notFound } from '../../platform/errors.ts';
import type { Platform } from '../../platform/platform.ts';
import { PLATFORM_TENANT_ID } from '../audit/events.ts';
import type { AuditService } from '../audit/service.ts';
import { isPlatformOperator } from '../identity/access.ts';
import { actorUserId, type RequestContext } from '../identity/actor.ts';
import { allNotices, currentNotices, deleteNotice, insertNotice, type NoticeRow } from './store.ts';

export const noticeLanguages = ['en', 'sv', 'fi', 'de'] as const;
export const noticeSeverities = ['info', 'warning'] as const;

const text = z.string().trim().min(1, 'must not be empty').max(1000, 'at most 1000 characters');
export const newNoticeSchema = z.object({
  message: z.object({ en: text, sv: text.optional(), fi: text.optional(), de: text.optional() }).strict()
    .describe('The notice per language; English is required, a language left out shows the English text'),
  severity: z.enum(noticeSeverities).default('info'),
  startsAt: z.coerce.date().optional().describe('When it starts showing (default: now)'),
  endsAt: z.coerce.date().nullable().optional().describe('When it stops showing (default: until deleted)'),
}).strict();
export type NewNotice = z.infer<typeof newNoticeSchema>;

export interface Notice {
  id: string;
  message: Partial<Record<(typeof noticeLanguages)[number], string>> & { en: string };
  severity: (typeof noticeSeverities)[number];
  startsAt: Date;
  endsAt: Date | null;
  createdAt: Date;
}

const view = (r: NoticeRow): Notice => ({
  id: r.id, message: r.message as Notice['message'], severity: r.severity, startsAt: r.starts_at, endsAt: r.ends_at, createdAt: r.created_at,
});

function assertOperator(ctx: RequestContext): void {
  if (ctx.actor.type === 'anonymous') throw new AppError('unauthenticated', 401, 'Sign in to continue.');
  if (!isPlatformOperator(ctx.actor)) throw new AppError('forbidden', 403, 'Only platform operators can manage maintenance notices.');
}

export function createNoticeService(platform: Platform, audit: AuditService) {
  const { db, clock } = platform;
  return {
    /** The notices in effect now, for everybody. */
    current: async (): Promise<Notice[]> => (await db.withPlatform((tx) => currentNotices(tx, clock.now()))).map(view),

    async list(ctx: RequestContext): Promise<Notice[]> {
      assertOperator(ctx);
      return (await db.withPlatform((tx) => allNotices(tx))).map(view);
    },

    async publish(ctx: RequestContext, input: NewNotice): Promise<Notice> {
      assertOperator(ctx);
      const startsAt = input.startsAt ?? clock.now();
      const endsAt = input.endsAt ?? null;
      if (endsAt && endsAt <= startsAt) throw new AppError('invalid_request', 400, 'The notice must end after it starts.', { issues: [{ path: 'endsAt', message: 'must be after startsAt' }] });
      return db.withPlatform(async (tx) => {
        const row = await insertNotice(tx, {
          id: randomUUID(), message: input.message, severity: input.severity, starts_at: startsAt, ends_at: endsAt, created_by: actorUserId(ctx.actor) ?? null,
        });
        await audit.record(tx, ctx, {
          action: 'platform.notice.create', target: { type: 'notice', id: row.id }, tenantId: PLATFORM_TENANT_ID,
          details: { severity: row.severity, startsAt: startsAt.toISOString(), endsAt: endsAt?.toISOString() ?? null, languages: Object.keys(input.message) },
        });
        return view(row);
      });
    },

    async withdraw(ctx: RequestContext, id: string): Promise<void> {
      assertOperator(ctx);
      await db.withPlatform(async (tx) => {
        const row = await deleteNotice(tx, id);
        if (!row) throw notFound('notice');
        await audit.record(tx, ctx, {
          action: 'platform.notice.delete', target: { type: 'notice', id }, tenantId: PLATFORM_TENANT_ID, details: { severity: row.severity },
        });
      });
    },
  };
}

export type NoticeService = ReturnType<typeof createNoticeService>;
