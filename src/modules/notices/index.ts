// The notices module: maintenance notices from platform operators to everybody.
import type { HttpServer } from '../../platform/http/server.ts';
import type { Platform } from '../../platform/platform.ts';
import type { AuditService } from '../audit/service.ts';
import { registerNoticeRoutes } from './routes.ts';
import { createNoticeService } from './service.ts';

export function createNoticesModule(platform: Platform, deps: { audit: AuditService }) {
  const service = createNoticeService(platform, deps.audit);
  return {
    service,
    registerRoutes(app: HttpServer): void {
      registerNoticeRoutes(app, service);
    },
  };
}

export type NoticesModule = ReturnType<typeof createNoticesModule>;
