// A tenant's identity settings, parsed from tenants.settings (jsonb).
import { z } from 'zod';

const domain = z.string().trim().toLowerCase().regex(/^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$/, 'is not a domain name');

export const tenantSettingsSchema = z.object({
  twoFactor: z.enum(['optional', 'admins', 'all']).default('optional').describe('Who must use a second factor'),
  allowedEmailDomains: z.array(domain).max(50).default([]).describe('When set, only these email domains may be members'),
  sessionIdleMinutes: z.number().int().min(5).max(7 * 24 * 60).default(60),
  sessionAbsoluteHours: z.number().int().min(1).max(30 * 24).default(12),
  trashRetentionDays: z.number().int().min(1, 'the trash keeps things at least 1 day').max(365, 'the trash keeps things at most 365 days').default(30)
    .describe('Days a deleted video, collection or person stays in the trash (restorable) before it is purged'),
});
export type TenantSettings = z.infer<typeof tenantSettingsSchema>;

/** High-security tenants get shorter sessions unless they chose even shorter ones. */
export function effectiveSettings(raw: unknown, securityLevel: 'standard' | 'high' = 'standard'): TenantSettings {
  const s = tenantSettingsSchema.parse(raw ?? {});
  if (securityLevel !== 'high') return s;
  return { ...s, sessionIdleMinutes: Math.min(s.sessionIdleMinutes, 15), sessionAbsoluteHours: Math.min(s.sessionAbsoluteHours, 8), twoFactor: 'all' };
}

/** For PATCH: every setting optional and without defaults, so unsent keys keep their stored value. */
export const tenantSettingsPatchSchema = z.object({
  twoFactor: tenantSettingsSchema.shape.twoFactor.unwrap().optional(),
  allowedEmailDomains: tenantSettingsSchema.shape.allowedEmailDomains.unwrap().optional(),
  sessionIdleMinutes: tenantSettingsSchema.shape.sessionIdleMinutes.unwrap().optional(),
  sessionAbsoluteHours: tenantSettingsSchema.shape.sessionAbsoluteHours.unwrap().optional(),
  trashRetentionDays: tenantSettingsSchema.shape.trashRetentionDays.unwrap().optional(),
}).strict();
