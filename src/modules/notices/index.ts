// The notices module: maintenance notices from platform operators to everybody.
import type { HttpServer } from '../../platform/http/server.ts';
import type { Platform } from '../../platform/platform.ts';
import type { AuditService } from '../audit/service.ts';
import { createNoticeService } from './service.ts';

export function createNoticesModule(platform: Platform, deps: { audit: AuditService }) {
  const service = createNoticeService(platform, deps.audit);
  return {
    service,
    /** Loaded only by a node that serves HTTP (src/serve.ts). */
    async registerRoutes(app: HttpServer): Promise<void> {
      const { registerNoticeRoutes } = await import('./routes.ts');
      registerNoticeRoutes(app, service);
    },
  };
}

export type NoticesModule = ReturnType<typeof createNoticesModule>;
