// The residency report over HTTP for platform operators: every stored object,
// its region and jurisdiction, flagged when it lies outside its tenant's
// jurisdiction — what `haven residency report --json` prints. Read-only.
import { z } from 'zod';
import { AppError } from '../../../platform/errors.ts';
import type { HttpServer } from '../../../platform/http/server.ts';
import { errorResponses } from '../../../platform/http/schemas.ts';
import { isPlatformOperator } from '../../identity/access.ts';
import type { Residency } from './index.ts';

const report = z.object({
  generatedAt: z.string(),
  regions: z.array(z.object({ region: z.string(), jurisdiction: z.string(), driver: z.string(), objects: z.number(), bytes: z.number() })),
  objects: z.array(z.object({
    region: z.string(), jurisdiction: z.string(), key: z.string(), size: z.number(),
    tenantId: z.string().nullable(), tenantSlug: z.string().nullable(), tenantRegion: z.string().nullable(), tenantJurisdiction: z.string().nullable(),
    flag: z.enum(['outside_jurisdiction', 'unknown_tenant']).nullable(),
  })),
  flagged: z.number(),
}).describe('Where every stored object is (GDPR residency report)');

export function registerResidencyRoutes(app: HttpServer, residency: Residency): void {
  app.get('/api/v1/platform/residency', {
    schema: {
      tags: ['platform'], summary: 'The residency report: every stored object with its region and jurisdiction, flagged when misplaced (platform operators)',
      querystring: z.object({ tenant: z.uuid('must be a valid id').optional().describe('Only this tenant\'s objects') }),
      response: { 200: report, ...errorResponses },
    },
  }, async (req) => {
    const { actor } = req.ctx;
    if (actor.type === 'anonymous') throw new AppError('unauthenticated', 401, 'Sign in to continue.');
    if (!isPlatformOperator(actor)) throw new AppError('forbidden', 403, 'Only platform operators can read the residency report.');
    return residency.report(req.query.tenant ? { tenantId: req.query.tenant } : {});
  });
}
