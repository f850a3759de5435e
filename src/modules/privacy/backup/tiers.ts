// Backup tiers: the first backup of an ISO week is weekly, the first of a UTC
// day daily, the rest hourly; each tier has its own lifetime. The defaults
// (24 h, 7 days, 30 days) and the 31-day ceiling mean no copy of deleted data
// outlives a month. Pure functions over a clock value, so tests can move time.
import type { Config } from '../../../config.ts';
import type { Tier } from './manifest.ts';

export interface Retention { hourlyHours: number; dailyDays: number; weeklyDays: number }

export const retentionOf = (config: Config): Retention => ({
  hourlyHours: config.backupHourlyRetentionHours,
  dailyDays: config.backupDailyRetentionDays,
  weeklyDays: config.backupWeeklyRetentionDays,
});

const HOUR = 3600_000;
const DAY = 24 * HOUR;

/** Monday 00:00 UTC of the ISO week containing t. */
function weekStart(t: Date): number {
  const day = Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate());
  return day - ((t.getUTCDay() + 6) % 7) * DAY;
}

const dayStart = (t: Date) => Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate());

/** The tier a backup made at `now` gets, given the backups that exist. */
export function tierFor(now: Date, existing: { tier: Tier; createdAt: Date }[]): Tier {
  const sameWeek = existing.some((b) => b.tier === 'weekly' && weekStart(b.createdAt) === weekStart(now));
  if (!sameWeek) return 'weekly';
  const sameDay = existing.some((b) => b.tier !== 'hourly' && dayStart(b.createdAt) === dayStart(now));
  return sameDay ? 'hourly' : 'daily';
}

export function expiryOf(tier: Tier, createdAt: Date, r: Retention): Date {
  const ms = tier === 'hourly' ? r.hourlyHours * HOUR : tier === 'daily' ? r.dailyDays * DAY : r.weeklyDays * DAY;
  return new Date(createdAt.getTime() + ms);
}
