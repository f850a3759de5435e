// Offboarding a tenant whose contract ended: read-only at once with a full
// export ready for its owners (one-time link), then, after the grace period,
// destruction — tenant key first (crypto-shred), then objects in every
// region, then rows (the trash part's purgeTenant) — and a signed
// certificate of deletion that says what went and what remains until when.
import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { decryptStream, encryptBuffer } from '../../../platform/crypto/stream.ts';
import { AppError } from '../../../platform/errors.ts';
import type { Platform } from '../../../platform/platform.ts';
import type { Readable } from 'node:stream';
import { PLATFORM_TENANT_ID } from '../../audit/events.ts';
import type { AuditService } from '../../audit/service.ts';
import type { RequestContext } from '../../identity/actor.ts';
import { purgeTenant, seeTrash, tenantPurgeKeeps } from '../trash/index.ts';
import { type DeletionCertificate, type SignedCertificate, signCertificate, verifyCertificate, certificateKeys, publicKeyText } from './certificate.ts';
import { buildTenantExport, tenantTables } from './export.ts';

const DAY_MS = 86_400_000;
const EXPORT_PURPOSE = 'offboarding-export';
const exportKey = (tenantId: string) => `t/${tenantId}/offboarding/export.zip.hvn`;
const hashToken = (token: string) => createHash('sha256').update(token).digest();

export interface OffboardInput { tenantId: string; graceDays?: number; includeMedia?: boolean; via: 'cli' | 'api' }
export interface OffboardResult { tenantId: string; graceEndsAt: Date; exportBytes: number; downloadToken: string; downloadPath: string }

export function createOffboardingService(deps: { platform: Platform; audit: AuditService }) {
  const { platform, audit } = deps;
  const { db, storage, keyring, clock, config } = platform;
  const publicUrl = config.publicUrl ?? `http://${config.host}:${config.port}`;
  const downloadPath = (token: string) => `/api/v1/tenant/offboarding/export?token=${token}`;

  async function mintLink(tenantId: string, ctx: RequestContext, expiresAt: Date): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await db.withTenant(tenantId, async (tx) => {
      const res = await tx.updateTable('tenant_offboardings').set({ download_token_hash: hashToken(token), download_expires_at: expiresAt })
        .where('offboarded_tenant', '=', tenantId).where('destroyed_at', 'is', null).where('export_ready_at', 'is not', null).executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) throw new AppError('offboarding_not_found', 404, 'This organization has no export waiting to be downloaded.');
      await audit.record(tx, { ...ctx, tenantId }, { action: 'tenant.offboard.export_link', target: { type: 'tenant', id: tenantId }, details: { expiresAt: expiresAt.toISOString() } });
    });
    return token;
  }

  /** Tenant rows per table (trashed ones included), the tenant's own row as "tenants". */
  async function countRows(tenantId: string): Promise<Record<string, number>> {
    return db.withTenant(tenantId, async (tx) => {
      await seeTrash(tx);
      const counts: Record<string, number> = {};
      for (const table of tenantTables()) {
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)} where tenant_id = ${tenantId}`.execute(tx);
        counts[table] = rows[0]!.n;
      }
      return counts;
    });
  }

  async function countObjects(tenantId: string): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const region of storage.regions()) {
      let n = 0;
      for await (const _ of storage.forRegion(region).list(`t/${tenantId}/`)) n++;
      counts[region] = n;
    }
    return counts;
  }

  /** When the last backup made before now is gone: the longest backup tier. */
  function backupsGoneBy(now: Date): Date {
    const c = config as unknown as Record<string, number | undefined>;
    const ms = Math.max((c.backupHourlyRetentionHours ?? 0) * 3_600_000, (c.backupDailyRetentionDays ?? 0) * DAY_MS, (c.backupWeeklyRetentionDays ?? 0) * DAY_MS);
    return new Date(now.getTime() + ms);
  }

  async function destroy(tenantId: string, now: Date): Promise<SignedCertificate> {
    const ctx: RequestContext = { actor: { type: 'system', job: 'privacy.offboarding-destroy' }, tenantId };
    const started = await db.withTenant(tenantId, async (tx) => {
      const row = await tx.selectFrom('tenant_offboardings').selectAll().where('offboarded_tenant', '=', tenantId).forUpdate().executeTakeFirstOrThrow();
      if (row.destroy_started_at) return row;
      const countsBefore = { rows: await countRowsIn(tenantId), objects: await countObjects(tenantId) };
      await seeTrash(tx);
      // The trash part's purge destroys only a tenant marked deleted; from here on its members get 410.
      await tx.updateTable('tenants').set({ status: 'ended', deleted_at: now, purge_after: now }).where('id', '=', tenantId).where('deleted_at', 'is', null).execute();
      await tx.updateTable('tenants').set({ status: 'ended' }).where('id', '=', tenantId).execute();
      const updated = await tx.updateTable('tenant_offboardings').set({ destroy_started_at: now, counts_before: JSON.stringify(countsBefore) })
        .where('offboarded_tenant', '=', tenantId).returningAll().executeTakeFirstOrThrow();
      await audit.record(tx, ctx, { action: 'tenant.offboard.destroy', target: { type: 'tenant', id: tenantId }, details: { graceEndedAt: row.grace_ends_at.toISOString() } });
      return updated;
    });
    // Key first, then objects in every region, then rows; idempotent, so a crash is finished by the next run.
    const purged = await purgeTenant({ platform, audit }, tenantId, ctx);
    const before = started.counts_before as { rows: Record<string, number>; objects: Record<string, number> };
    const rowsAfter = await countRowsIn(tenantId);
    const objectsAfter = await countObjects(tenantId);
    await audit.checkpoint(tenantId);
    const facts = await db.withTenant(tenantId, async (tx) => {
      const tenant = await tx.selectFrom('tenants').select(['slug', 'region']).where('id', '=', tenantId).executeTakeFirstOrThrow();
      const keys = await tx.selectFrom('tenant_keys').select([sql<number>`count(*)::int`.as('n'), sql<Date | null>`max(destroyed_at)`.as('at')]).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow();
      const cp = await tx.selectFrom('audit_checkpoints').selectAll().where('tenant_id', '=', tenantId).orderBy('chain_seq', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
      return { tenant, keys, cp };
    });
    const backups = [];
    for (const region of storage.regions()) {
      let copies = 0;
      for await (const o of storage.backupForRegion(region).list('')) if (o.modified <= now) copies++;
      backups.push({ region, copiesBefore: copies, goneBy: backupsGoneBy(now).toISOString() });
    }
    const destroyed: Record<string, number> = {};
    const remaining: Record<string, number> = {};
    const retained: Record<string, { rows: number; reason: string }> = {};
    for (const [table, n] of Object.entries(before.rows)) {
      if (tenantPurgeKeeps.has(table)) {
        retained[table] = { rows: rowsAfter[table] ?? 0, reason: table === 'tenant_keys' ? 'destroyed-key records: the key material is gone, the row records when' : table.startsWith('audit_') ? 'the audit trail, kept as evidence of what was done (pseudonymous; no media or content)' : 'append-only consent evidence' };
      } else {
        destroyed[table] = n - (rowsAfter[table] ?? 0);
        if ((rowsAfter[table] ?? 0) > 0) remaining[table] = rowsAfter[table]!;
      }
    }
    const certificate: DeletionCertificate = {
      format: 'haven-deletion-certificate/1',
      tenant: { id: tenantId, slug: facts.tenant.slug, region: facts.tenant.region, jurisdiction: storage.jurisdiction(facts.tenant.region) },
      offboarding: {
        requestedAt: started.requested_at.toISOString(), graceEndsAt: started.grace_ends_at.toISOString(),
        exportReadyAt: started.export_ready_at?.toISOString() ?? null, exportDownloadedAt: started.downloaded_at?.toISOString() ?? null,
      },
      keys: { destroyed: facts.keys.n, destroyedAt: facts.keys.at ? new Date(facts.keys.at).toISOString() : null },
      rows: { destroyed, remaining, retained },
      objects: storage.regions().map((region) => ({
        region, jurisdiction: storage.locationJurisdiction(region), driver: storage.forRegion(region).driver,
        destroyed: (before.objects[region] ?? 0) - (objectsAfter[region] ?? 0), remaining: objectsAfter[region] ?? 0,
      })),
      auditChain: { finalCheckpoint: facts.cp ? { chainSeq: Number(facts.cp.chain_seq), hash: Buffer.from(facts.cp.hash).toString('hex'), createdAt: new Date(facts.cp.created_at).toISOString(), kind: facts.cp.kind, signature: Buffer.from(facts.cp.signature).toString('hex') } : null },
      backups,
      residual: [
        `Backups made before ${now.toISOString()} still hold the tenant's rows (encrypted) until they expire, at the latest ${backupsGoneBy(now).toISOString()}; its media in any copy is unreadable since its key was destroyed.`,
        'The tombstone row (id, slug, region, dates), the destroyed-key records, the audit trail and consent evidence are retained as stated above.',
      ],
      issuedAt: clock.now().toISOString(),
    };
    void purged;
    const signed = signCertificate(platform.signingKey, certificate);
    await db.withPlatform(async (tx) => {
      await tx.updateTable('tenant_offboardings').set({ destroyed_at: now, certificate: JSON.stringify(certificate), certificate_signature: signed.signature }).where('offboarded_tenant', '=', tenantId).execute();
      await audit.record(tx, { actor: { type: 'system', job: 'privacy.offboarding-destroy' } }, {
        action: 'tenant.deletion_certificate.issue', tenantId: PLATFORM_TENANT_ID, target: { type: 'tenant', id: tenantId },
        details: { sha256: createHash('sha256').update(JSON.stringify(certificate)).digest('hex'), keysDestroyedAt: certificate.keys.destroyedAt },
      });
    });
    storage.invalidateTenant(tenantId);
    return signed;
  }

  // Counting needs the tenant's rows visible whatever its trash state.
  const countRowsIn = countRows;

  return {
    async offboard(input: OffboardInput, ctx: RequestContext): Promise<OffboardResult> {
      const graceDays = input.graceDays ?? config.offboardingGraceDays;
      if (!Number.isInteger(graceDays) || graceDays < 0 || graceDays > 365) throw new AppError('invalid_grace_days', 400, 'The grace period must be 0–365 whole days.');
      const now = clock.now();
      const graceEndsAt = new Date(now.getTime() + graceDays * DAY_MS);
      const tenant = await db.withTenant(input.tenantId, async (tx) => {
        const t = await tx.selectFrom('tenants').select(['id', 'status', 'region', 'slug']).where('id', '=', input.tenantId).forUpdate().executeTakeFirst();
        if (!t) throw new AppError('tenant_not_found', 404, 'No tenant with that id exists.');
        if (t.status !== 'active') throw new AppError('tenant_not_active', 409, `This tenant is already ${t.status}.`);
        await tx.updateTable('tenants').set({ status: 'offboarding' }).where('id', '=', t.id).execute();
        await tx.insertInto('tenant_offboardings').values({
          offboarded_tenant: t.id, region: t.region, requested_at: now, requested_via: input.via, grace_ends_at: graceEndsAt, include_media: input.includeMedia ?? false,
        }).execute();
        await audit.record(tx, { ...ctx, tenantId: t.id }, {
          action: 'tenant.offboard', target: { type: 'tenant', id: t.id },
          diff: { before: { status: 'active' }, after: { status: 'offboarding' } },
          details: { graceDays, graceEndsAt: graceEndsAt.toISOString(), includeMedia: input.includeMedia ?? false, via: input.via },
        });
        return t;
      });
      await audit.recordNow({ ...ctx, tenantId: undefined }, { action: 'tenant.offboard', tenantId: PLATFORM_TENANT_ID, target: { type: 'tenant', id: tenant.id }, details: { graceEndsAt: graceEndsAt.toISOString(), via: input.via } });

      // The export, encrypted under a data key the tenant key wraps, stored in the tenant's own region (the store enforces it).
      const { zip, summary } = await buildTenantExport(platform, tenant.id, { includeMedia: input.includeMedia ?? false, now });
      const dataKey = await db.withTenant(tenant.id, (tx) => keyring.newDataKey(tx, tenant.id, EXPORT_PURPOSE));
      const stored = await storage.forRegion(tenant.region).put(exportKey(tenant.id), encryptBuffer(dataKey.key, zip), { contentType: 'application/octet-stream' });
      await db.withTenant(tenant.id, async (tx) => {
        await tx.updateTable('tenant_offboardings').set({
          export_key: exportKey(tenant.id), export_key_wrapped: dataKey.wrapped, export_bytes: zip.length,
          export_sha256: createHash('sha256').update(zip).digest('hex'), export_ready_at: clock.now(),
        }).where('offboarded_tenant', '=', tenant.id).execute();
        await audit.record(tx, { ...ctx, tenantId: tenant.id }, { action: 'tenant.offboard.export_ready', target: { type: 'tenant', id: tenant.id }, details: { bytes: zip.length, storedBytes: stored.size, rows: summary.rows, objects: summary.objects, media: summary.media } });
      });
      const downloadToken = await mintLink(tenant.id, ctx, graceEndsAt);
      return { tenantId: tenant.id, graceEndsAt, exportBytes: zip.length, downloadToken, downloadPath: downloadPath(downloadToken) };
    },

    /** A fresh one-time link for an owner (the previous one stops working). */
    async newDownloadLink(tenantId: string, ctx: RequestContext): Promise<{ url: string; expiresAt: Date }> {
      const row = await db.withTenant(tenantId, (tx) => tx.selectFrom('tenant_offboardings').select('grace_ends_at').where('offboarded_tenant', '=', tenantId).where('destroyed_at', 'is', null).executeTakeFirst());
      if (!row) throw new AppError('offboarding_not_found', 404, 'This organization is not being offboarded.');
      const token = await mintLink(tenantId, ctx, row.grace_ends_at);
      return { url: `${publicUrl}${downloadPath(token)}`, expiresAt: row.grace_ends_at };
    },

    async status(tenantId: string) {
      const row = await db.withTenant(tenantId, (tx) => tx.selectFrom('tenant_offboardings').selectAll().where('offboarded_tenant', '=', tenantId).executeTakeFirst());
      if (!row) throw new AppError('offboarding_not_found', 404, 'This organization is not being offboarded.');
      return {
        requestedAt: row.requested_at as Date, graceEndsAt: row.grace_ends_at as Date, includeMedia: row.include_media as boolean,
        exportReady: Boolean(row.export_ready_at), exportBytes: row.export_bytes === null ? null : Number(row.export_bytes), downloadedAt: (row.downloaded_at as Date | null) ?? null,
      };
    },

    /** Consumes the one-time token and streams the decrypted ZIP. */
    async download(tenantId: string, token: string, ctx: RequestContext): Promise<{ body: Readable; bytes: number }> {
      const invalid = new AppError('export_link_invalid', 404, 'This download link is invalid, used or expired; an owner can ask for a new one.');
      const { row, key } = await db.withTenant(tenantId, async (tx) => {
        const row = await tx.selectFrom('tenant_offboardings').selectAll().where('offboarded_tenant', '=', tenantId).forUpdate().executeTakeFirst();
        if (!row?.download_token_hash || row.destroyed_at || !row.export_key) throw invalid;
        const given = hashToken(token);
        if (!given.equals(Buffer.from(row.download_token_hash)) || row.download_expires_at <= clock.now()) throw invalid;
        await tx.updateTable('tenant_offboardings').set({ download_token_hash: null, downloaded_at: clock.now() }).where('offboarded_tenant', '=', tenantId).execute();
        await audit.record(tx, ctx, { action: 'tenant.offboard.export_download', target: { type: 'tenant', id: tenantId }, details: { bytes: Number(row.export_bytes) } });
        return { row, key: await keyring.unwrapDataKey(tx, tenantId, row.export_key_wrapped, EXPORT_PURPOSE) };
      });
      const body = (await storage.forRegion(row.region).get(row.export_key)).pipe(decryptStream(key));
      return { body, bytes: Number(row.export_bytes) };
    },

    /** The scheduled pass: every tenant whose grace period ended by `now` is destroyed. */
    async destroyDue(now = clock.now()): Promise<SignedCertificate[]> {
      const due = await db.withPlatform((tx) => tx.selectFrom('tenant_offboardings').select('offboarded_tenant').where('destroyed_at', 'is', null).where('grace_ends_at', '<=', now).execute());
      const done: SignedCertificate[] = [];
      for (const d of due) done.push(await destroy(d.offboarded_tenant, now));
      return done;
    },

    async certificate(tenantId: string): Promise<SignedCertificate & { valid: boolean }> {
      const row = await db.withPlatform((tx) => tx.selectFrom('tenant_offboardings').select(['certificate', 'certificate_signature']).where('offboarded_tenant', '=', tenantId).executeTakeFirst());
      if (!row?.certificate) throw new AppError('certificate_not_found', 404, 'No certificate of deletion exists for that tenant (is its grace period over?).');
      const signed = { certificate: row.certificate as DeletionCertificate, signature: row.certificate_signature as string };
      return { ...signed, publicKey: publicKeyText(certificateKeys(platform.signingKey).publicKey), valid: verifyCertificate(platform.signingKey, signed) };
    },
  };
}

export type OffboardingService = ReturnType<typeof createOffboardingService>;
