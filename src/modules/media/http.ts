// The media module's HTTP surface: progress streams, posters, quotas and the
// tus upload endpoint. Imported only by a node that serves HTTP.
import type { HttpServer } from '../../platform/http/server.ts';
import type { Platform } from '../../platform/platform.ts';
import type { AuditService } from '../audit/service.ts';
import type { TenantService } from '../identity/tenants.ts';
import type { EventStreams } from './events.ts';
import { registerPosterRoute } from './poster-route.ts';
import { registerQuotaRoutes } from './quota-routes.ts';
import { registerMediaRoutes } from './routes.ts';
import type { Staging } from './staging.ts';
import { createTusServers } from './tus.ts';
import { registerUploadRoutes } from './upload-routes.ts';
import type { UploadRecords } from './uploads.ts';

export interface MediaRouteDeps {
  platform: Platform;
  audit: AuditService;
  tenants: TenantService;
  events: EventStreams;
  records: UploadRecords;
  staging: Staging;
}

export async function registerMediaHttp(app: HttpServer, deps: MediaRouteDeps): Promise<void> {
  const { platform, audit, events, records, staging } = deps;
  // Event streams never go idle on their own; end them so shutdown does not wait.
  app.addHook('preClose', async () => events.closeAll());
  registerMediaRoutes(app, events);
  registerPosterRoute(app, { platform, audit });
  registerQuotaRoutes(app, { db: platform.db, config: platform.config, audit });
  const tus = createTusServers(platform, staging, records);
  await registerUploadRoutes(app, { db: platform.db, tus, records, tenants: deps.tenants, staging });
}
