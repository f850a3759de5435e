// Library fixtures: organizations with signed-in people of each role, and
// videos inserted as rows (status ready by default) so library tests do not
// depend on the upload pipeline.
import { randomUUID } from 'node:crypto';
import { addMember, type Role } from '../../src/modules/identity/users.ts';
import { ApiClient } from './client.ts';
import type { TestHaven } from './haven.ts';

export const PASSWORD = 'correct horse battery staple';

export interface Org {
  tenantId: string;
  region: string;
  slug: string;
  /** Signed-in clients by role. */
  owner: ApiClient;
  as(role: Role): Promise<ApiClient>;
}

/** A tenant with a signed-in owner; other roles are signed in on first use. */
export async function createOrg(haven: TestHaven, name: string): Promise<Org> {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  const ownerEmail = `owner@${slug}.test`;
  const { tenant } = await haven.modules.setup({ tenantName: name, adminEmail: ownerEmail, adminPassword: PASSWORD });
  const owner = new ApiClient(haven.url);
  await owner.signIn(ownerEmail, PASSWORD);
  const clients = new Map<Role, ApiClient>([['owner', owner]]);
  return {
    tenantId: tenant.id,
    region: tenant.region,
    slug: tenant.slug,
    owner,
    async as(role) {
      let client = clients.get(role);
      if (!client) {
        const email = `${role}@${slug}.test`;
        await haven.platform.db.withTenant(tenant.id, (tx) => addMember(tx, tenant.id, { email, password: PASSWORD, role, emailVerified: true }));
        client = new ApiClient(haven.url);
        await client.signIn(email, PASSWORD);
        clients.set(role, client);
      }
      return client;
    },
  };
}

export interface VideoFixture {
  title: string;
  description?: string;
  language?: string | null;
  tags?: string[];
  customFields?: Record<string, string | number>;
  captionsText?: string;
  status?: 'uploading' | 'processing' | 'ready' | 'failed';
  durationMs?: number | null;
  createdAt?: Date;
  publishedState?: 'draft' | 'scheduled' | 'published';
  publishAt?: Date | null;
}

/** Inserts videos as the upload pipeline would leave them; returns their ids in order. */
export async function insertVideos(haven: TestHaven, org: Pick<Org, 'tenantId' | 'region'>, videos: VideoFixture[]): Promise<string[]> {
  const ids = videos.map(() => randomUUID());
  await haven.platform.db.withTenant(org.tenantId, (tx) =>
    tx.insertInto('videos').values(videos.map((v, i) => ({
      id: ids[i],
      tenant_id: org.tenantId,
      region: org.region,
      title: v.title,
      description: v.description ?? '',
      language: v.language === undefined ? 'en' : v.language,
      tags: v.tags ?? [],
      custom_fields: JSON.stringify(v.customFields ?? {}),
      captions_text: v.captionsText ?? '',
      status: v.status ?? 'ready',
      progress_percent: (v.status ?? 'ready') === 'ready' ? 100 : 0,
      duration_ms: v.durationMs === undefined ? 60_000 : v.durationMs,
      created_at: v.createdAt ?? new Date(),
      published_state: v.publishedState ?? 'draft',
      publish_at: v.publishAt ?? null,
    }))).execute());
  return ids;
}

export const insertVideo = async (haven: TestHaven, org: Pick<Org, 'tenantId' | 'region'>, video: VideoFixture): Promise<string> =>
  (await insertVideos(haven, org, [video]))[0]!;
