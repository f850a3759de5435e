// The data map over HTTP for the privacy center: every column that can hold
// personal data, as `haven privacy datamap --json` prints it. The map is the
// same for every tenant (it describes the schema, not anyone's rows), so
// tenant admins and platform operators read the same list.
import { z } from 'zod';
import { AppError } from '../../../platform/errors.ts';
import type { HttpServer } from '../../../platform/http/server.ts';
import { errorResponses } from '../../../platform/http/schemas.ts';
import { can, isPlatformOperator } from '../../identity/access.ts';
import type { RequestContext } from '../../identity/actor.ts';
import type { ErasureAction } from '../../../platform/datamap.ts';
import { dataMapRows } from './datamap-view.ts';

const erasureActions = ['delete', 'null', 'pseudonymize', 'crypto_shred', 'retain'] as const satisfies readonly ErasureAction[];

const dataMapRow = z.object({
  module: z.string(), table: z.string(), column: z.string(), category: z.string(), subject: z.string(),
  purpose: z.string(), legalBasis: z.string(), retention: z.string(), erasure: z.enum(erasureActions), retainBasis: z.string().optional(),
});

function assertMayRead(ctx: RequestContext): void {
  if (ctx.actor.type === 'anonymous') throw new AppError('unauthenticated', 401, 'Sign in to continue.');
  if (isPlatformOperator(ctx.actor) || can(ctx, 'privacy:read')) return;
  throw new AppError('forbidden', 403, 'Only organization admins and platform operators can read the data map.');
}

export function registerDataMapRoutes(app: HttpServer): void {
  app.get('/api/v1/privacy/datamap', {
    schema: {
      tags: ['privacy'], summary: 'The data map: every column that can hold personal data (tenant admins and platform operators)',
      response: { 200: z.object({ items: z.array(dataMapRow) }), ...errorResponses },
    },
  }, async (req) => {
    assertMayRead(req.ctx);
    return { items: dataMapRows() };
  });
}
