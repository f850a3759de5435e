// A tenant's analytics policy: what a view may record about the viewer. No
// row means the defaults, which record no IP address and no raw user agent.
// Ingestion reads the policy from a short per-node cache; a change made on
// this node applies at once, on other nodes within SETTINGS_CACHE_MS.
import { sql } from 'kysely';
import { z } from 'zod';
import type { Tx } from '../../../platform/db/database.ts';
import type { Platform } from '../../../platform/platform.ts';
import type { AuditService } from '../../audit/service.ts';
import type { RequestContext } from '../../identity/actor.ts';
import { authorize } from '../../identity/access.ts';

export const ipModes = ['none', 'masked', 'full'] as const;
export type IpMode = (typeof ipModes)[number];

export interface AnalyticsSettings {
  ipMode: IpMode;
  ipv4MaskBits: 16 | 24;
  /** Days after which stored IPs are nulled; required for full. */
  ipRetentionDays: number | null;
  sessionRetentionDays: number;
  honorDoNotTrack: boolean;
  storeUserAgent: boolean;
}

export const DEFAULT_SETTINGS: AnalyticsSettings = {
  ipMode: 'none', ipv4MaskBits: 16, ipRetentionDays: null, sessionRetentionDays: 90, honorDoNotTrack: true, storeUserAgent: false,
};

export const SETTINGS_CACHE_MS = 30_000;

export const settingsSchema = z.object({
  ipMode: z.enum(ipModes).describe('none: no IP is stored; masked: IPv4 cut to /16 or /24, IPv6 to /48; full: the whole address, nulled after ipRetentionDays'),
  ipv4MaskBits: z.union([z.literal(16), z.literal(24)]).default(16).describe('Bits of an IPv4 address kept in masked mode'),
  ipRetentionDays: z.number().int().min(1).max(365).nullable().optional().describe('Days after which stored IPs are nulled; required for full'),
  sessionRetentionDays: z.number().int().min(1).max(730).default(90).describe('Days raw view sessions are kept; daily aggregates stay'),
  honorDoNotTrack: z.boolean().default(true).describe('DNT: 1 or Sec-GPC: 1 records no session, only the anonymous daily view count'),
  storeUserAgent: z.boolean().default(false).describe('Keep the raw User-Agent; otherwise only device class, OS and browser'),
}).strict().superRefine((s, ctx) => {
  if (s.ipMode === 'full' && s.ipRetentionDays == null) {
    ctx.addIssue({ code: 'custom', path: ['ipRetentionDays'], message: 'is required when ipMode is full (1–365 days)' });
  }
  if (s.ipMode === 'none' && s.ipRetentionDays != null) {
    ctx.addIssue({ code: 'custom', path: ['ipRetentionDays'], message: 'means nothing when ipMode is none (no IP is stored)' });
  }
});

export const settingsView = z.object({
  ipMode: z.enum(ipModes), ipv4MaskBits: z.union([z.literal(16), z.literal(24)]), ipRetentionDays: z.number().nullable(),
  sessionRetentionDays: z.number(), honorDoNotTrack: z.boolean(), storeUserAgent: z.boolean(),
});

const fromRow = (r: Record<string, any> | undefined): AnalyticsSettings => r ? {
  ipMode: r.ip_mode, ipv4MaskBits: r.ipv4_mask_bits, ipRetentionDays: r.ip_retention_days, sessionRetentionDays: r.session_retention_days,
  honorDoNotTrack: r.honor_do_not_track, storeUserAgent: r.store_user_agent,
} : { ...DEFAULT_SETTINGS };

export async function readSettings(tx: Tx, tenantId: string): Promise<AnalyticsSettings> {
  return fromRow(await tx.selectFrom('analytics_settings').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst());
}

export function createSettingsService(platform: Platform, audit: AuditService) {
  const { db } = platform;
  const cache = new Map<string, { settings: AnalyticsSettings; until: number }>();

  return {
    async get(ctx: RequestContext): Promise<AnalyticsSettings> {
      authorize(ctx, 'tenant:read');
      return db.withTenant(ctx.tenantId, (tx) => readSettings(tx, ctx.tenantId));
    },

    async update(ctx: RequestContext, input: unknown): Promise<AnalyticsSettings> {
      authorize(ctx, 'tenant:write');
      const parsed = settingsSchema.parse(input);
      const next: AnalyticsSettings = { ...parsed, ipRetentionDays: parsed.ipRetentionDays ?? null };
      const saved = await db.withTenant(ctx.tenantId, async (tx) => {
        const before = fromRow(await tx.selectFrom('analytics_settings').selectAll().where('tenant_id', '=', ctx.tenantId).forUpdate().executeTakeFirst());
        const values = {
          ip_mode: next.ipMode, ipv4_mask_bits: next.ipv4MaskBits, ip_retention_days: next.ipRetentionDays,
          session_retention_days: next.sessionRetentionDays, honor_do_not_track: next.honorDoNotTrack, store_user_agent: next.storeUserAgent,
        };
        await tx.insertInto('analytics_settings').values({ tenant_id: ctx.tenantId, ...values })
          .onConflict((oc) => oc.column('tenant_id').doUpdateSet({ ...values, updated_at: sql`now()` })).execute();
        // A stricter policy applies to what was already kept, not only to later views.
        let ipsCleared = 0;
        let userAgentsCleared = 0;
        if (next.ipMode === 'none' && before.ipMode !== 'none') {
          const r = await tx.updateTable('analytics_sessions').set({ ip: null }).where('tenant_id', '=', ctx.tenantId).where('ip', 'is not', null).executeTakeFirst();
          ipsCleared = Number(r.numUpdatedRows);
        }
        if (!next.storeUserAgent && before.storeUserAgent) {
          const r = await tx.updateTable('analytics_sessions').set({ user_agent: null }).where('tenant_id', '=', ctx.tenantId).where('user_agent', 'is not', null).executeTakeFirst();
          userAgentsCleared = Number(r.numUpdatedRows);
        }
        await audit.record(tx, ctx, {
          action: 'analytics.settings.update',
          target: { type: 'tenant', id: ctx.tenantId },
          diff: { before: { ...before }, after: { ...next } },
          ...(ipsCleared || userAgentsCleared ? { details: { ipsCleared, userAgentsCleared } } : {}),
        });
        return next;
      });
      cache.set(ctx.tenantId, { settings: saved, until: Date.now() + SETTINGS_CACHE_MS });
      return saved;
    },

    /** For ingestion: the policy from the cache, read once per SETTINGS_CACHE_MS per tenant. */
    async forIngest(tenantId: string): Promise<AnalyticsSettings> {
      const now = Date.now();
      const hit = cache.get(tenantId);
      if (hit && hit.until > now) return hit.settings;
      const settings = await db.withTenant(tenantId, (tx) => readSettings(tx, tenantId));
      if (cache.size > 10_000) cache.clear();
      cache.set(tenantId, { settings, until: now + SETTINGS_CACHE_MS });
      return settings;
    },
  };
}

export type SettingsService = ReturnType<typeof createSettingsService>;
