// Data-subject requests: intake by four channels, verification of the
// unauthenticated one by an emailed code, optional approval, processing by a
// job, the statutory deadline, and the one-time export links. Every state
// change writes its audit event in the same transaction.
import { createHash, createHmac, hkdfSync, randomBytes, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import { sql } from 'kysely';
import { z } from 'zod';
import { decryptStream, encryptBuffer, openKey, sealKey } from '../../../platform/crypto/stream.ts';
import type { Tx } from '../../../platform/db/database.ts';
import { AppError, notFound } from '../../../platform/errors.ts';
import { defineJob } from '../../../platform/jobs.ts';
import type { Platform } from '../../../platform/platform.ts';
import type { AuditService } from '../../audit/service.ts';
import { combinedDataMap } from '../../datamaps.ts';
import { authorize, isPlatformOperator } from '../../identity/access.ts';
import { actorUserId, type RequestContext, systemContext } from '../../identity/actor.ts';
import { renderEmail } from '../../identity/emails.ts';
import { emailSchema, normalizeEmail } from '../../identity/users.ts';
import type { TenantService } from '../../identity/tenants.ts';
import { locateSubjectIn, type SubjectIdentities } from '../subject/index.ts';
import { type ArchiveReport, buildArchive } from './archive.ts';

export const requestTypes = ['access', 'erasure', 'rectification', 'restriction'] as const;
export type RequestType = (typeof requestTypes)[number];
export const requestStates = ['identity_unverified', 'pending', 'approved', 'in_processing', 'complete', 'denied', 'error'] as const;
export type RequestState = (typeof requestStates)[number];
const OPEN: RequestState[] = ['identity_unverified', 'pending', 'approved', 'in_processing'];

export const CODE_VALID_MINUTES = 10;
export const MAX_CODE_ATTEMPTS = 5;
export const EXPORT_DAYS = 7;
const DAY = 86_400_000;

export const processJob = defineJob({ name: 'privacy.dsar.process', schema: z.object({ requestId: z.uuid() }), retryLimit: 2, expireInSeconds: 3600 });
export const remindJob = defineJob({ name: 'privacy.dsar.remind', schema: z.object({}).passthrough(), cron: '7 6 * * *', retryLimit: 1 });
export const sweepJob = defineJob({ name: 'privacy.dsar.sweep-exports', schema: z.object({}).passthrough(), cron: '37 * * * *', retryLimit: 1 });

export const intakeSchema = z.object({
  type: z.enum(requestTypes),
  note: z.string().max(4000).optional().describe('What to correct (rectification), or anything the organization should know'),
});
export const adminIntakeSchema = intakeSchema.extend({ email: emailSchema.describe('The data subject\'s address (a viewer, registrant or member)') });
export const operatorIntakeSchema = adminIntakeSchema.extend({ tenantId: z.uuid().optional().describe('Limit to one tenant; absent = every tenant') });
export const publicIntakeSchema = z.object({ email: emailSchema, type: z.enum(requestTypes), tenant: z.string().min(1).max(63).describe('The organization\'s slug') });
export const settingsSchema = z.object({
  requireApproval: z.boolean().optional(),
  exportMediaLimitBytes: z.number().int().min(0).max(100 * 1024 ** 3).optional(),
});

export interface PrivacyRequest {
  id: string; tenantId: string | null; type: RequestType; channel: string; subjectEmail: string; state: RequestState;
  note: string; receivedAt: Date; dueAt: Date; verifiedAt: Date | null; decidedAt: Date | null; decisionReason: string | null;
  completedAt: Date | null; remindersSent: number; overdue: boolean; result: unknown;
}

export interface DsarDeps {
  platform: Platform;
  audit: AuditService;
  tenants: TenantService;
  /** The erasure part's eraseSubject, bound to its dependencies. */
  erase(input: { email: string; tenantId?: string }, ctx: RequestContext): Promise<unknown>;
}

export interface ExportResult { report: ArchiveReport; identities: SubjectIdentities; zip: Buffer }

const toRequest = (r: Record<string, any>, now: Date): PrivacyRequest => ({
  id: r.id, tenantId: r.tenant_id, type: r.type, channel: r.channel, subjectEmail: r.subject_email, state: r.state, note: r.note ?? '',
  receivedAt: r.received_at, dueAt: r.due_at, verifiedAt: r.verified_at, decidedAt: r.decided_at, decisionReason: r.decision_reason,
  completedAt: r.completed_at, remindersSent: r.reminders_sent, overdue: OPEN.includes(r.state) && r.due_at < now, result: r.result,
});

/** Received + one calendar month (Art. 12(3)); the last day of a shorter month when the day does not exist. */
export function dueDate(received: Date): Date {
  const d = new Date(received);
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + 1);
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, last));
  return d;
}

const target = (id: string) => ({ type: 'privacy_request', id });

export function createDsarService(deps: DsarDeps) {
  const { platform, audit } = deps;
  const { db, clock, mailer, log } = platform;
  const codeHash = (id: string, code: string) => createHmac('sha256', platform.signingKey).update(`dsar-code:${id}:${code}`).digest();
  const tokenHash = (token: string) => createHash('sha256').update(token).digest();
  const platformExportKey = Buffer.from(hkdfSync('sha256', platform.signingKey, Buffer.alloc(0), 'haven:privacy-export-key', 32));
  const baseUrl = () => (platform.config.publicUrl ?? `http://${platform.config.host}:${platform.config.port}`).replace(/\/$/, '');
  const scoped = <T>(tenantId: string | null, fn: (tx: Tx) => Promise<T>) => (tenantId ? db.withTenant(tenantId, fn) : db.withPlatform(fn));

  async function settingsOf(tx: Tx, tenantId: string | null): Promise<{ requireApproval: boolean; exportMediaLimitBytes: number }> {
    if (!tenantId) return { requireApproval: false, exportMediaLimitBytes: 0 };
    const row = await tx.selectFrom('privacy_dsar_settings').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst();
    return { requireApproval: row?.require_approval ?? false, exportMediaLimitBytes: Number(row?.export_media_limit_bytes ?? 0) };
  }

  async function send(to: string, subject: string, text: string, template: string): Promise<void> {
    await mailer.send({ to, subject, text, template }).catch((err) => log.error({ err, template }, 'privacy mail not sent'));
  }

  /** Inserts an open request; a duplicate open one of the same type and subject is a 409 with its id. */
  async function insert(tx: Tx, ctx: RequestContext, r: { tenantId: string | null; type: RequestType; channel: string; email: string; requestedBy: string | null; note?: string; state: RequestState; language?: string }) {
    const existing = await tx.selectFrom('privacy_requests').select(['id', 'state'])
      .where(sql<boolean>`coalesce(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid) = ${r.tenantId ?? '00000000-0000-0000-0000-000000000000'}::uuid`)
      .where('type', '=', r.type).where('subject_email', '=', r.email).where('state', 'in', OPEN).executeTakeFirst();
    if (existing) return { existing };
    const now = clock.now();
    const row = await tx.insertInto('privacy_requests').values({
      id: randomUUID(), tenant_id: r.tenantId, type: r.type, channel: r.channel, subject_email: r.email, requested_by: r.requestedBy,
      state: r.state, note: r.note ?? '', language: r.language ?? 'en', received_at: now, due_at: dueDate(now), updated_at: now,
    }).returningAll().executeTakeFirstOrThrow();
    await audit.record(tx, ctx, { action: 'privacy.request.create', target: target(row.id), tenantId: r.tenantId ?? undefined, details: { type: r.type, channel: r.channel, state: r.state } });
    return { row };
  }

  const duplicate = (id: string) => new AppError('request_exists', 409, 'An open request of this type for this person already exists.', { id });

  /** After intake (or verification): wait for approval, or go. Rectification always goes to the admins. */
  async function advance(tx: Tx, ctx: RequestContext, row: Record<string, any>): Promise<Record<string, any>> {
    const { requireApproval } = await settingsOf(tx, row.tenant_id);
    if (row.type === 'rectification' || (requireApproval && row.channel !== 'operator' && row.channel !== 'tenant_admin')) {
      await notifyAdmins(tx, row, row.type === 'rectification' ? 'A rectification request needs your action' : 'A data-subject request waits for your approval');
      return row;
    }
    return approveRow(tx, ctx, row, null);
  }

  async function approveRow(tx: Tx, ctx: RequestContext, row: Record<string, any>, reason: string | null) {
    const now = clock.now();
    const state: RequestState = row.type === 'rectification' ? 'complete' : 'approved';
    const updated = await tx.updateTable('privacy_requests').set({
      state, decided_by: actorUserId(ctx.actor) ?? null, decided_at: now, decision_reason: reason, updated_at: now,
      ...(state === 'complete' ? { completed_at: now, result: sql`${JSON.stringify({ rectified: true })}::jsonb` } : {}),
    }).where('id', '=', row.id).returningAll().executeTakeFirstOrThrow();
    await audit.record(tx, ctx, { action: 'privacy.request.approve', target: target(row.id), tenantId: row.tenant_id ?? undefined, details: { type: row.type } });
    if (state === 'complete') await audit.record(tx, ctx, { action: 'privacy.request.complete', target: target(row.id), tenantId: row.tenant_id ?? undefined, details: { type: row.type } });
    else await platform.jobs.send(processJob, { requestId: row.id });
    return updated;
  }

  async function notifyAdmins(tx: Tx, row: Record<string, any>, subject: string): Promise<number> {
    const admins = row.tenant_id
      ? await tx.selectFrom('memberships as m').innerJoin('users as u', 'u.id', 'm.user_id').select('u.email')
        .where('m.tenant_id', '=', row.tenant_id).where('m.role', 'in', ['admin', 'owner']).where('m.status', '=', 'active').where('u.status', '=', 'active').execute()
      : await tx.selectFrom('users').select('email').where(sql<boolean>`'operator' = any(platform_roles)`).where('status', '=', 'active').execute();
    const text = `${subject}.\n\nRequest ${row.id} (${row.type}), received ${row.received_at.toISOString()}, is due by ${row.due_at.toISOString()}.\nOpen the privacy requests of your organization in Haven to act on it.`;
    for (const a of admins) await send(a.email, `Haven: ${subject}`, text, 'dsar_admin_notice');
    return admins.length;
  }

  async function byId(tx: Tx, id: string) {
    const row = await tx.selectFrom('privacy_requests').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('privacy_request', 'request_not_found');
    return row;
  }

  async function mailExportLink(row: Record<string, any>, url: string, expiresAt: Date) {
    const mail = renderEmail('export_ready', row.language, { downloadUrl: url, expiresAt });
    await mailer.send({ to: row.subject_email, subject: mail.subject, text: mail.text, html: mail.html, template: 'export_ready' })
      .catch((err) => log.error({ err }, 'export link mail not sent'));
  }

  async function newLink(tx: Tx, exportRow: Record<string, any>): Promise<{ url: string; expiresAt: Date }> {
    const token = randomBytes(32).toString('base64url');
    await tx.updateTable('privacy_exports').set({ token_hash: tokenHash(token), link_created_at: clock.now(), downloaded_at: null }).where('id', '=', exportRow.id).execute();
    return { url: `${baseUrl()}/api/v1/privacy/exports/${token}`, expiresAt: exportRow.expires_at };
  }

  const service = {
    // ── intake ────────────────────────────────────────────────────────────
    async createSelf(ctx: RequestContext, input: z.infer<typeof intakeSchema>): Promise<PrivacyRequest> {
      const userId = actorUserId(ctx.actor);
      if (ctx.actor.type !== 'user' || !userId) throw new AppError('unauthenticated', 401, 'Sign in to file a request about yourself.');
      if (!ctx.tenantId) throw new AppError('tenant_required', 400, 'Choose an organization first: a request goes to the organization that holds your data.');
      const tenantId = ctx.tenantId;
      return db.withTenant(tenantId, async (tx) => {
        const user = await tx.selectFrom('users').select(['email_normalized', 'preferred_language']).where('id', '=', userId).executeTakeFirstOrThrow();
        const r = await insert(tx, ctx, { tenantId, type: input.type, channel: 'self', email: user.email_normalized, requestedBy: userId, note: input.note, state: 'pending', language: user.preferred_language });
        if (r.existing) throw duplicate(r.existing.id);
        return toRequest(await advance(tx, ctx, r.row!), clock.now());
      });
    },

    async createForTenant(ctx: RequestContext, input: z.infer<typeof adminIntakeSchema>): Promise<PrivacyRequest> {
      authorize(ctx, 'privacy:write');
      const tenantId = ctx.tenantId;
      return db.withTenant(tenantId, async (tx) => {
        const r = await insert(tx, ctx, { tenantId, type: input.type, channel: 'tenant_admin', email: normalizeEmail(input.email), requestedBy: actorUserId(ctx.actor) ?? null, note: input.note, state: 'pending' });
        if (r.existing) throw duplicate(r.existing.id);
        return toRequest(await advance(tx, ctx, r.row!), clock.now());
      });
    },

    async createAsOperator(ctx: RequestContext, input: z.infer<typeof operatorIntakeSchema>): Promise<PrivacyRequest> {
      if (ctx.actor.type === 'anonymous') throw new AppError('unauthenticated', 401, 'Sign in to continue.');
      if (!isPlatformOperator(ctx.actor)) throw new AppError('forbidden', 403, 'Only platform operators file requests across tenants.');
      const tenantId = input.tenantId ?? null;
      if (tenantId && !(await deps.tenants.get(tenantId))) throw notFound('tenant');
      return scoped(tenantId, async (tx) => {
        const r = await insert(tx, ctx, { tenantId, type: input.type, channel: 'operator', email: normalizeEmail(input.email), requestedBy: actorUserId(ctx.actor) ?? null, note: input.note, state: 'pending' });
        if (r.existing) throw duplicate(r.existing.id);
        return toRequest(await advance(tx, ctx, r.row!), clock.now());
      });
    },

    /**
     * The unauthenticated channel. The answer is the same whether or not the
     * person exists: a request id, and a code mailed to the address.
     */
    async createPublic(ctx: RequestContext, input: z.infer<typeof publicIntakeSchema>, language?: string): Promise<{ id: string; state: RequestState; codeExpiresAt: Date }> {
      const tenant = await deps.tenants.bySlug(input.tenant);
      if (!tenant || tenant.status !== 'active') throw notFound('tenant');
      const email = normalizeEmail(input.email);
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      const expires = new Date(clock.now().getTime() + CODE_VALID_MINUTES * 60_000);
      const anonymous: RequestContext = { ...ctx, tenantId: tenant.id };
      const out = await db.withTenant(tenant.id, async (tx) => {
        const r = await insert(tx, anonymous, { tenantId: tenant.id, type: input.type, channel: 'public', email, requestedBy: null, state: 'identity_unverified', language });
        const row = r.row ?? (await byId(tx, r.existing!.id));
        // A verified open request gets no new code; the answer looks the same.
        if (row.state !== 'identity_unverified') return { id: row.id, send: false };
        await tx.updateTable('privacy_requests').set({ code_hash: codeHash(row.id, code), code_expires_at: expires, code_attempts: 0, updated_at: clock.now() }).where('id', '=', row.id).execute();
        return { id: row.id, send: true };
      });
      if (out.send) {
        const mail = renderEmail('dsar_code', language, { code, validMinutes: CODE_VALID_MINUTES });
        await mailer.send({ to: email, subject: mail.subject, text: mail.text, html: mail.html, template: 'dsar_code' }).catch((err) => log.error({ err }, 'dsar code mail not sent'));
      }
      return { id: out.id, state: 'identity_unverified', codeExpiresAt: expires };
    },

    async verifyPublic(ctx: RequestContext, id: string, code: string): Promise<{ id: string; state: RequestState }> {
      const tenantId = await db.withPlatform(async (tx) => (await tx.selectFrom('privacy_requests').select('tenant_id').where('id', '=', id).where('channel', '=', 'public').executeTakeFirst())?.tenant_id as string | undefined);
      if (!tenantId) throw notFound('privacy_request', 'request_not_found');
      const outcome = await db.withTenant(tenantId, async (tx) => {
        const row = await tx.selectFrom('privacy_requests').selectAll().where('id', '=', id).forUpdate().executeTakeFirstOrThrow();
        const c = { ...ctx, tenantId };
        if (row.state === 'identity_unverified' && row.code_attempts >= MAX_CODE_ATTEMPTS) return { error: new AppError('code_attempts_exceeded', 429, 'Too many wrong codes. File the request again to get a new code.') };
        if (row.state !== 'identity_unverified' || !row.code_hash) return { error: new AppError('code_invalid', 400, 'That code is not valid for this request.') };
        if (row.code_expires_at <= clock.now()) return { error: new AppError('code_expired', 410, `The code was valid for ${CODE_VALID_MINUTES} minutes. File the request again to get a new one.`) };
        if (!/^\d{6}$/.test(code) || !timingSafeEqual(codeHash(id, code), row.code_hash)) {
          const attempts = row.code_attempts + 1;
          await tx.updateTable('privacy_requests').set({ code_attempts: attempts, ...(attempts >= MAX_CODE_ATTEMPTS ? { code_hash: null } : {}), updated_at: clock.now() }).where('id', '=', id).execute();
          await audit.record(tx, c, { action: 'privacy.request.verify', outcome: 'failed', target: target(id), details: { attempts } });
          return { error: attempts >= MAX_CODE_ATTEMPTS ? new AppError('code_attempts_exceeded', 429, 'Too many wrong codes. File the request again to get a new code.') : new AppError('code_invalid', 400, 'That code is not right.') };
        }
        const now = clock.now();
        const verified = await tx.updateTable('privacy_requests').set({ state: 'pending', verified_at: now, code_hash: null, code_expires_at: null, updated_at: now }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
        await audit.record(tx, c, { action: 'privacy.request.verify', target: target(id), details: { type: row.type } });
        const next = await advance(tx, c, verified);
        return { result: { id, state: next.state as RequestState } };
      });
      if (outcome.error) throw outcome.error;
      return outcome.result!;
    },

    // ── decisions ────────────────────────────────────────────────────────
    async approve(ctx: RequestContext, id: string, reason?: string): Promise<PrivacyRequest> {
      authorize(ctx, 'privacy:write');
      return db.withTenant(ctx.tenantId, async (tx) => {
        const row = await byId(tx, id);
        if (row.state !== 'pending') throw new AppError('request_not_pending', 409, `The request is ${row.state}; only a pending request can be approved.`);
        return toRequest(await approveRow(tx, ctx, row, reason ?? null), clock.now());
      });
    },

    async deny(ctx: RequestContext, id: string, reason: string): Promise<PrivacyRequest> {
      authorize(ctx, 'privacy:write');
      return db.withTenant(ctx.tenantId, async (tx) => {
        const row = await byId(tx, id);
        if (row.state !== 'pending' && row.state !== 'identity_unverified') throw new AppError('request_not_pending', 409, `The request is ${row.state}; only a pending request can be denied.`);
        const now = clock.now();
        const updated = await tx.updateTable('privacy_requests').set({ state: 'denied', decided_by: actorUserId(ctx.actor) ?? null, decided_at: now, decision_reason: reason, completed_at: now, updated_at: now })
          .where('id', '=', id).returningAll().executeTakeFirstOrThrow();
        await audit.record(tx, ctx, { action: 'privacy.request.deny', target: target(id), details: { type: row.type } });
        return toRequest(updated, now);
      });
    },

    // ── reading ──────────────────────────────────────────────────────────
    async listForTenant(ctx: RequestContext, state?: RequestState): Promise<PrivacyRequest[]> {
      authorize(ctx, 'privacy:read');
      return db.withTenant(ctx.tenantId, async (tx) => {
        const rows = await tx.selectFrom('privacy_requests').selectAll().where('tenant_id', '=', ctx.tenantId).$if(state !== undefined, (q) => q.where('state', '=', state!)).orderBy('received_at', 'desc').limit(500).execute();
        return rows.map((r) => toRequest(r, clock.now()));
      });
    },

    async listOwn(ctx: RequestContext): Promise<PrivacyRequest[]> {
      const userId = actorUserId(ctx.actor);
      if (!userId || !ctx.tenantId) throw new AppError('unauthenticated', 401, 'Sign in to continue.');
      return db.withTenant(ctx.tenantId, async (tx) => {
        const user = await tx.selectFrom('users').select('email_normalized').where('id', '=', userId).executeTakeFirstOrThrow();
        const rows = await tx.selectFrom('privacy_requests').selectAll().where('tenant_id', '=', ctx.tenantId!)
          .where((eb) => eb.or([eb('requested_by', '=', userId), eb('subject_email', '=', user.email_normalized)])).orderBy('received_at', 'desc').limit(200).execute();
        return rows.map((r) => toRequest(r, clock.now()));
      });
    },

    async settings(ctx: RequestContext) {
      authorize(ctx, 'privacy:read');
      return db.withTenant(ctx.tenantId, (tx) => settingsOf(tx, ctx.tenantId));
    },

    async updateSettings(ctx: RequestContext, input: z.infer<typeof settingsSchema>) {
      authorize(ctx, 'privacy:write');
      return db.withTenant(ctx.tenantId, async (tx) => {
        const before = await settingsOf(tx, ctx.tenantId);
        const after = { ...before, ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) };
        await tx.insertInto('privacy_dsar_settings').values({ tenant_id: ctx.tenantId, require_approval: after.requireApproval, export_media_limit_bytes: after.exportMediaLimitBytes, updated_at: clock.now() })
          .onConflict((oc) => oc.column('tenant_id').doUpdateSet({ require_approval: after.requireApproval, export_media_limit_bytes: after.exportMediaLimitBytes, updated_at: clock.now() })).execute();
        await audit.record(tx, ctx, { action: 'privacy.dsar_settings.update', target: { type: 'tenant', id: ctx.tenantId }, diff: { before, after } });
        return after;
      });
    },

    /** A fresh one-time link to a completed access request's archive (the previous link stops working). */
    async exportLink(ctx: RequestContext, id: string, own: boolean): Promise<{ url: string; expiresAt: Date }> {
      if (!own) authorize(ctx, 'privacy:write');
      const userId = actorUserId(ctx.actor);
      if (!userId || !ctx.tenantId) throw new AppError('unauthenticated', 401, 'Sign in to continue.');
      return db.withTenant(ctx.tenantId, async (tx) => {
        const row = await byId(tx, id);
        if (own) {
          const user = await tx.selectFrom('users').select('email_normalized').where('id', '=', userId).executeTakeFirstOrThrow();
          if (row.requested_by !== userId && row.subject_email !== user.email_normalized) throw notFound('privacy_request', 'request_not_found');
        }
        const exp = await tx.selectFrom('privacy_exports').selectAll().where('request_id', '=', id).where('deleted_at', 'is', null).where('expires_at', '>', clock.now()).orderBy('created_at', 'desc').executeTakeFirst();
        if (!exp) throw new AppError('export_not_available', 404, 'This request has no archive that is still kept (archives are deleted 7 days after they are made).');
        const link = await newLink(tx, exp);
        await audit.record(tx, ctx, { action: 'dsar.export.link', target: { type: 'privacy_export', id: exp.id }, details: { request: id } });
        return link;
      });
    },

    /** The one-time download: marks the link used and returns the decrypted archive. */
    async download(ctx: RequestContext, token: string): Promise<Buffer> {
      if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) throw notFound('export', 'export_not_found');
      const hash = tokenHash(token);
      const found = await db.withPlatform((tx) => tx.selectFrom('privacy_exports').select(['id', 'tenant_id']).where('token_hash', '=', hash).executeTakeFirst());
      if (!found) throw notFound('export', 'export_not_found');
      const { row, key } = await scoped(found.tenant_id, async (tx) => {
        const row = await tx.selectFrom('privacy_exports').selectAll().where('id', '=', found.id).forUpdate().executeTakeFirstOrThrow();
        if (row.deleted_at || row.expires_at <= clock.now()) throw new AppError('export_expired', 410, 'This archive has expired and was deleted; file a new request.');
        if (row.downloaded_at) throw new AppError('export_link_used', 410, 'This link was already used; ask for a new link.');
        const key = await openExportKey(tx, row);
        await tx.updateTable('privacy_exports').set({ downloaded_at: clock.now() }).where('id', '=', row.id).execute();
        await audit.record(tx, { ...ctx, tenantId: row.tenant_id ?? undefined }, { action: 'dsar.export.download', target: { type: 'privacy_export', id: row.id }, details: { request: row.request_id, bytes: row.size_bytes } });
        return { row, key };
      });
      const parts: Buffer[] = [];
      for await (const chunk of (await platform.storage.forRegion(row.region).get(row.object_key)).pipe(decryptStream(key))) parts.push(chunk as Buffer);
      return Buffer.concat(parts);
    },

    // ── processing ───────────────────────────────────────────────────────
    /** Runs an approved request (the job's body). Idempotent: a finished request is left alone. */
    async process(requestId: string): Promise<void> {
      const row = await db.withPlatform((tx) => tx.selectFrom('privacy_requests').selectAll().where('id', '=', requestId).executeTakeFirst());
      // The job is sent inside the approving transaction and a worker here is woken at once: a request not
      // (yet) approved is retried, so the job never ends before the approval it was sent for has committed.
      if (!row || row.state === 'pending' || row.state === 'identity_unverified') throw new Error(`privacy request ${requestId} is not approved yet`);
      if (row.state !== 'approved' && row.state !== 'in_processing') return;
      const ctx = systemContext('privacy.dsar.process', row.tenant_id ?? undefined);
      await scoped(row.tenant_id, async (tx) => {
        await tx.updateTable('privacy_requests').set({ state: 'in_processing', started_at: clock.now(), updated_at: clock.now() }).where('id', '=', requestId).execute();
        await audit.record(tx, ctx, { action: 'privacy.request.process', target: target(requestId), details: { type: row.type } });
      });
      try {
        let result: unknown;
        if (row.type === 'access') result = await service.runAccess(row);
        else if (row.type === 'erasure') result = summarizeErasure(await deps.erase({ email: row.subject_email, tenantId: row.tenant_id ?? undefined }, ctx));
        else if (row.type === 'restriction') result = await service.runRestriction(row, ctx);
        await scoped(row.tenant_id, async (tx) => {
          await tx.updateTable('privacy_requests').set({ state: 'complete', completed_at: clock.now(), result: sql`${JSON.stringify(result ?? {})}::jsonb`, updated_at: clock.now() }).where('id', '=', requestId).execute();
          await audit.record(tx, ctx, { action: 'privacy.request.complete', target: target(requestId), details: { type: row.type } });
        });
      } catch (err) {
        log.error({ err, requestId }, 'data-subject request failed');
        await scoped(row.tenant_id, async (tx) => {
          await tx.updateTable('privacy_requests').set({ state: 'error', error: (err as Error).message.slice(0, 2000), updated_at: clock.now() }).where('id', '=', requestId).execute();
          await audit.record(tx, ctx, { action: 'privacy.request.fail', outcome: 'failed', target: target(requestId), details: { type: row.type } });
        });
      }
    },

    /** Builds the archive in memory (CLI and the access job share it). */
    async buildExport(query: { email: string; tenantId?: string }, requestId: string | null): Promise<ExportResult> {
      return db.withPlatform(async (tx) => {
        const identities = await locateSubjectIn(tx, { email: query.email, tenantId: query.tenantId });
        const { exportMediaLimitBytes } = await settingsOf(tx, query.tenantId ?? null);
        const { zip, report } = await buildArchive(platform, tx, identities, { requestId, mediaLimitBytes: exportMediaLimitBytes, baseUrl: baseUrl(), datamap: combinedDataMap(), now: clock.now() });
        return { zip, report, identities };
      });
    },

    async runAccess(row: Record<string, any>) {
      const built = await service.buildExport({ email: row.subject_email, tenantId: row.tenant_id ?? undefined }, row.id);
      const exportId = randomUUID();
      const regionTenant = row.tenant_id ?? built.identities.tenantIds[0];
      const region = regionTenant ? (await deps.tenants.get(regionTenant))?.region ?? platform.storage.regions()[0]! : platform.storage.regions()[0]!;
      const objectKey = row.tenant_id ? `t/${row.tenant_id}/privacy/exports/${exportId}.zip.hvn1` : `privacy/exports/${exportId}.zip.hvn1`;
      const { link, expiresAt } = await scoped(row.tenant_id, async (tx) => {
        let dataKey: Buffer; let wrapped: string;
        if (row.tenant_id) ({ key: dataKey, wrapped } = await platform.keyring.newDataKey(tx, row.tenant_id, `privacy-export:${exportId}`));
        else { dataKey = randomBytes(32); wrapped = `p:${sealKey(platformExportKey, dataKey, Buffer.from(`haven:privacy-export:${exportId}`)).toString('base64')}`; }
        const ciphertext = encryptBuffer(dataKey, built.zip);
        await platform.storage.forRegion(region).put(objectKey, ciphertext, { contentType: 'application/octet-stream' });
        const expiresAt = new Date(clock.now().getTime() + EXPORT_DAYS * DAY);
        const exp = await tx.insertInto('privacy_exports').values({
          id: exportId, tenant_id: row.tenant_id, request_id: row.id, region, object_key: objectKey, data_key_wrapped: wrapped, size_bytes: ciphertext.length, expires_at: expiresAt,
        }).returningAll().executeTakeFirstOrThrow();
        const link = await newLink(tx, exp);
        await audit.record(tx, systemContext('privacy.dsar.process', row.tenant_id ?? undefined), { action: 'dsar.export.create', target: { type: 'privacy_export', id: exportId }, details: { request: row.id, bytes: ciphertext.length } });
        return { link, expiresAt };
      });
      await mailExportLink(row, link.url, expiresAt);
      return { exportId, expiresAt, ...built.report };
    },

    async runRestriction(row: Record<string, any>, ctx: RequestContext) {
      return db.withPlatform(async (tx) => {
        const ids = await locateSubjectIn(tx, { email: row.subject_email, tenantId: row.tenant_id ?? undefined });
        const flags: { tenant_id: string; subject_kind: string; subject_id: string }[] = [];
        for (const u of ids.users) for (const m of u.memberships) flags.push({ tenant_id: m.tenantId, subject_kind: 'user', subject_id: u.id });
        for (const a of ids.audienceAccounts) flags.push({ tenant_id: a.tenantId, subject_kind: 'audience', subject_id: a.id });
        for (const f of flags) {
          await tx.insertInto('privacy_restrictions').values({ ...f, request_id: row.id, created_at: clock.now() })
            .onConflict((oc) => oc.columns(['tenant_id', 'subject_kind', 'subject_id']).doUpdateSet({ request_id: row.id, lifted_at: null })).execute();
          await audit.record(tx, { ...ctx, tenantId: f.tenant_id }, { action: 'privacy.restriction.set', target: { type: f.subject_kind === 'user' ? 'user' : 'audience_account', id: f.subject_id }, details: { request: row.id } });
        }
        return { restricted: flags.length };
      });
    },

    // ── deadline and sweep ───────────────────────────────────────────────
    /** Reminds the admins of open requests due within 7 days (once a day each) and flags overdue ones. */
    async remindDue(): Promise<{ reminded: number; overdue: number }> {
      const now = clock.now();
      const due = await db.withPlatform((tx) => tx.selectFrom('privacy_requests').selectAll().where('state', 'in', ['pending', 'approved', 'in_processing', 'error'])
        .where('due_at', '<=', new Date(now.getTime() + 7 * DAY))
        .where((eb) => eb.or([eb('last_reminded_at', 'is', null), eb('last_reminded_at', '<', new Date(now.getTime() - 20 * 3600_000))])).execute());
      let reminded = 0; let overdue = 0;
      for (const row of due) {
        const isOverdue = row.due_at <= now;
        await scoped(row.tenant_id, async (tx) => {
          await notifyAdmins(tx, row, isOverdue ? 'A data-subject request is OVERDUE' : `A data-subject request is due within 7 days (${row.due_at.toISOString().slice(0, 10)})`);
          await tx.updateTable('privacy_requests').set({ reminders_sent: sql`reminders_sent + 1`, last_reminded_at: now, ...(isOverdue && !row.overdue_at ? { overdue_at: now } : {}) }).where('id', '=', row.id).execute();
          const ctx = systemContext('privacy.dsar.remind', row.tenant_id ?? undefined);
          await audit.record(tx, ctx, { action: 'privacy.request.remind', target: target(row.id), details: { dueAt: row.due_at.toISOString(), overdue: isOverdue } });
          if (isOverdue && !row.overdue_at) await audit.record(tx, ctx, { action: 'privacy.request.overdue', target: target(row.id), details: { dueAt: row.due_at.toISOString() } });
        });
        reminded++; if (isOverdue) overdue++;
      }
      return { reminded, overdue };
    },

    /** Deletes archives past their 7 days. */
    async sweepExports(): Promise<number> {
      const expired = await db.withPlatform((tx) => tx.selectFrom('privacy_exports').selectAll().where('deleted_at', 'is', null).where('expires_at', '<=', clock.now()).limit(1000).execute());
      for (const e of expired) {
        await platform.storage.forRegion(e.region).delete(e.object_key);
        await scoped(e.tenant_id, async (tx) => {
          await tx.updateTable('privacy_exports').set({ deleted_at: clock.now(), token_hash: null }).where('id', '=', e.id).execute();
          await audit.record(tx, systemContext('privacy.dsar.sweep-exports', e.tenant_id ?? undefined), { action: 'dsar.export.delete', target: { type: 'privacy_export', id: e.id }, details: { request: e.request_id } });
        });
      }
      return expired.length;
    },
  };

  async function openExportKey(tx: Tx, row: Record<string, any>): Promise<Buffer> {
    if (row.data_key_wrapped.startsWith('p:')) return openKey(platformExportKey, Buffer.from(row.data_key_wrapped.slice(2), 'base64'), Buffer.from(`haven:privacy-export:${row.id}`));
    return platform.keyring.unwrapDataKey(tx, row.tenant_id, row.data_key_wrapped, `privacy-export:${row.id}`);
  }

  return service;
}

function summarizeErasure(report: unknown): unknown {
  if (!report || typeof report !== 'object') return {};
  const r = report as Record<string, unknown>;
  return { erasureId: r.erasureId, state: r.state, subjects: r.subjects, accountEnded: r.accountEnded, durationMs: r.durationMs };
}

export type DsarService = ReturnType<typeof createDsarService>;
