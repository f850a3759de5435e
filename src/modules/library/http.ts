// The library module's routes. Imported only by a node that serves HTTP.
import type { HttpServer } from '../../platform/http/server.ts';
import type { LibraryModule } from './index.ts';
import { registerAttachmentRoutes } from './routes/attachments.ts';
import { registerCollectionRoutes } from './routes/collections.ts';
import { registerCustomFieldRoutes } from './routes/custom-fields.ts';
import { registerVideoRoutes } from './routes/videos.ts';
import { registerWebhookRoutes } from './routes/webhooks.ts';

export type LibraryRouteDeps = Pick<LibraryModule, 'videos' | 'versions' | 'views' | 'customFields' | 'collections' | 'attachments' | 'webhooks'>;

export async function registerLibraryRoutes(app: HttpServer, deps: LibraryRouteDeps): Promise<void> {
  registerVideoRoutes(app, deps);
  registerCustomFieldRoutes(app, deps.customFields);
  registerCollectionRoutes(app, deps.collections);
  await registerAttachmentRoutes(app, deps.attachments);
  registerWebhookRoutes(app, deps.webhooks);
}
