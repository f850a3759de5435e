// The backups overview for platform operators: what `haven backup list`
// shows, over HTTP and read-only (making, verifying and restoring backups
// stay with the CLI, where the operator holds the master key's machine).
import { z } from 'zod';
import { AppError } from '../../../platform/errors.ts';
import type { HttpServer } from '../../../platform/http/server.ts';
import { errorResponses } from '../../../platform/http/schemas.ts';
import type { Config } from '../../../config.ts';
import { isPlatformOperator } from '../../identity/access.ts';
import type { BackupService } from './service.ts';
import { tiers } from './manifest.ts';
import { retentionOf } from './tiers.ts';

const overview = z.object({
  schedule: z.string().describe('Cron expression (UTC) of scheduled backups, or off'),
  retention: z.object({ hourlyHours: z.number(), dailyDays: z.number(), weeklyDays: z.number() }),
  backups: z.array(z.object({
    id: z.string(), tier: z.enum(tiers), createdAt: z.string(), expiresAt: z.string(),
    size: z.number().describe('Bytes stored for the encrypted database dump'), objects: z.number().describe('Media objects copied, all regions'),
  })).describe('Complete backups, newest first'),
  broken: z.array(z.object({ id: z.string(), problem: z.string() })).describe('Backups whose signed manifest does not verify'),
  incomplete: z.array(z.string()).describe('Backups without a manifest (interrupted runs)'),
});

export function registerBackupRoutes(app: HttpServer, backups: BackupService, config: Config): void {
  app.get('/api/v1/platform/backups', {
    schema: { tags: ['platform'], summary: 'Backups of this installation, with schedule and tier retention (platform operators, read-only)', response: { 200: overview, ...errorResponses } },
  }, async (req) => {
    const { actor } = req.ctx;
    if (actor.type === 'anonymous') throw new AppError('unauthenticated', 401, 'Sign in to continue.');
    if (!isPlatformOperator(actor)) throw new AppError('forbidden', 403, 'Only platform operators can see the backups.');
    const listing = await backups.list();
    return {
      schedule: config.backupSchedule,
      retention: retentionOf(config),
      backups: [...listing.backups].reverse(),
      broken: listing.broken,
      incomplete: listing.incomplete,
    };
  });
}
