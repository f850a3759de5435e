// Erasure of a data subject (Art. 17): every personal column the data map
// declares gets its erasure action, the person's own media is crypto-shredded
// and its objects deleted, the audit trail is relabelled (and still
// verifies), the erasure is recorded in the ledger outside the database, and a
// verification pass looks for anything left. Steps, in order, each idempotent
// and marked done in privacy_erasures, so a rerun after a crash continues:
//   plan → database (one transaction) → ledger → storage:<region>… → mail-outbox → verify.
// docs/privacy/erasure.md describes the reading of the data map and the ledger.
import { randomUUID } from 'node:crypto';
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'kysely';
import { combinedDataMap } from '../../datamaps.ts';
import type { DataMap } from '../../../platform/datamap.ts';
import { loadRootSecrets } from '../../../platform/crypto/secrets.ts';
import { AppError } from '../../../platform/errors.ts';
import type { Platform } from '../../../platform/platform.ts';
import type { AuditService } from '../../audit/service.ts';
import { PLATFORM_TENANT_ID } from '../../audit/service.ts';
import type { RequestContext } from '../../identity/actor.ts';
import { systemContext } from '../../identity/actor.ts';
import { normalizeEmail } from '../../identity/users.ts';
import { locateSubjectIn, type SubjectIdentities } from '../subject/index.ts';
import { eraseRows } from './database.ts';
import { defaultLedgerPath, type ErasureLedger, ledgerKey, openErasureLedger } from './ledger.ts';
import type { ErasurePlan, ErasureReport, TableOutcome } from './types.ts';
import { verifyErasure } from './verify.ts';

export type { ErasurePlan, ErasureReport, TableOutcome, VerificationFinding, VerificationReport } from './types.ts';
export { type ErasureLedger, type LedgerEntry, openErasureLedger, ledgerKey, defaultLedgerPath } from './ledger.ts';

export interface ErasureDeps {
  platform: Platform;
  audit: AuditService;
  /** The media module's staging (plaintext uploads in progress); optional for tools without it. */
  staging?: { removeVideo(region: string, videoId: string, uploadId?: string): Promise<void> };
  /** The ledger; defaults to <dataDir>/privacy/erasure-ledger.ndjson keyed from the pseudonym key. */
  ledger?: ErasureLedger;
  /** Defaults to the combined data map of every module. */
  datamap?: DataMap;
  /** Called after each step is marked done (tests kill the process here to prove resumption). */
  afterStep?: (step: string) => Promise<void> | void;
}

export type ErasureInput =
  | { identities: SubjectIdentities; tenantId?: string }
  | { email?: string; userId?: string; tenantId?: string };

export interface ErasureOptions {
  /** false when re-applying the ledger after a restore: the erasure is already in the ledger. */
  ledger?: boolean;
}

/** The ledger of an installation: a file in the data dir, keyed from its pseudonym key. */
export function defaultLedger(platform: Platform): ErasureLedger {
  const { pseudonymKey } = loadRootSecrets(platform.config.dataDir, platform.config);
  return openErasureLedger(defaultLedgerPath(platform.config.dataDir), ledgerKey(pseudonymKey));
}

const refOf = (platform: Platform, kind: 'email' | 'user', value: string) => platform.pseudonymize(`erasure-subject:${kind}:${value}`);

interface ErasureRow { id: string; state: string; steps_done: string[]; plan: ErasurePlan | null; report: Partial<ErasureReport> | null }

/** Erases one person; resumes an unfinished erasure of the same person and scope. */
export async function eraseSubject(deps: ErasureDeps, input: ErasureInput, ctx: RequestContext, opts: ErasureOptions = {}): Promise<ErasureReport> {
  const started = Date.now();
  const { platform, audit } = deps;
  const { db } = platform;
  const datamap = deps.datamap ?? combinedDataMap();
  const scopeTenant = input.tenantId ?? ('identities' in input ? input.identities.scope?.[0] : undefined) ?? null;

  const refs = candidateRefs(platform, input);
  if (!refs.length) throw new AppError('subject_query_invalid', 400, 'Name the data subject by email or user id.');

  // ── plan (or resume) ───────────────────────────────────────────────────
  let row = await db.withPlatform(async (tx) => (await sql<ErasureRow>`
    select id, state, steps_done, plan, report from privacy_erasures
    where subject_ref = any(${refs}::text[]) and state <> 'done'
      and scope_tenant_id is not distinct from ${scopeTenant}::uuid
    order by created_at desc limit 1`.execute(tx)).rows[0]);
  const resumed = Boolean(row?.plan);
  if (!row?.plan) {
    const plan = await db.withPlatform(async (tx) => {
      const identities = 'identities' in input ? input.identities : await locateSubjectIn(tx, { email: input.email, userId: input.userId, tenantId: input.tenantId ?? undefined });
      if (identities.empty) throw new AppError('subject_not_found', 404, 'No account, viewer account or invitation matches this person.');
      return makePlan(tx, identities, randomUUID());
    });
    const subjectRef = plan.identities.email ? refOf(platform, 'email', plan.identities.email) : refOf(platform, 'user', plan.identities.userIds[0]!);
    row = await db.withPlatform(async (tx) => (await sql<ErasureRow>`
      insert into privacy_erasures (id, subject_ref, scope_tenant_id, plan, report, requested_by, steps_done)
      values (${plan.erasureId}::uuid, ${subjectRef}, ${scopeTenant}::uuid, ${JSON.stringify(plan)}::jsonb, '{}'::jsonb, ${requester(platform, ctx)}, '{plan}')
      returning id, state, steps_done, plan, report`.execute(tx)).rows[0]!);
    await deps.afterStep?.('plan');
  }
  const plan = row.plan!;
  const erasedAs = platform.pseudonymize(`erasure:${plan.erasureId}`);
  const done = new Set(row.steps_done);
  const progress: Partial<ErasureReport> = { ...(row.report ?? {}) };

  const mark = async (step: string, patch: Partial<ErasureReport>, tx?: Parameters<Parameters<typeof db.withPlatform>[0]>[0]) => {
    Object.assign(progress, patch);
    const q = sql`update privacy_erasures set steps_done = array_append(steps_done, ${step}), report = ${JSON.stringify(progress)}::jsonb, updated_at = now()
                  where id = ${plan.erasureId}::uuid and not (${step} = any(steps_done))`;
    if (tx) await q.execute(tx);
    else await db.withPlatform((own) => q.execute(own));
    done.add(step);
  };

  // ── database: one transaction for every row, the audit relabelling and the progress mark ──
  if (!done.has('database')) {
    await db.withPlatform(async (tx) => {
      const outcomes = await eraseRows(tx, plan, datamap, erasedAs);
      const auditCounts: { tenantId: string; entries: number }[] = [];
      for (const tenantId of plan.auditTenants) {
        let entries = 0;
        for (const userId of plan.identities.userIds) entries += await audit.eraseSubject(tx, tenantId, userId, erasedAs);
        auditCounts.push({ tenantId, entries });
      }
      const rows = outcomes.filter((o) => o.action !== 'retain').reduce((n, o) => n + o.rows, 0);
      for (const tenantId of chainsToRecordIn(plan)) {
        await audit.record(tx, { ...ctx, tenantId: tenantId === PLATFORM_TENANT_ID ? undefined : tenantId }, {
          action: 'privacy.subject.erase',
          tenantId,
          target: { type: 'erasure', id: plan.erasureId },
          details: { rows, tables: new Set(outcomes.map((o) => o.table)).size, ownVideos: plan.media.filter((m) => m.tenantId === tenantId).length, accountEnded: plan.endsAccount.length > 0, reapplied: opts.ledger === false },
        });
      }
      await mark('database', {
        tables: outcomes.filter((o) => o.action !== 'retain'),
        retained: outcomes.filter((o) => o.action === 'retain'),
        audit: auditCounts,
      }, tx);
    });
    await deps.afterStep?.('database');
  }

  // ── ledger: before the objects, so a restore re-applies even if we crash from here on ──
  const ledger = deps.ledger ?? defaultLedger(platform);
  if (!done.has('ledger')) {
    let entry: ErasureReport['ledger'];
    if (opts.ledger === false) entry = { skipped: 're-applied from the ledger' };
    else {
      const ids = plan.identities;
      const { appended } = ledger.append({
        erasure: plan.erasureId, at: platform.clock.now(), scope: ids.scope,
        identifiers: [...(ids.email ? [`email:${ids.email}`] : []), ...ids.userIds.map((u) => `user:${u}`), ...ids.audienceIds.map((a) => `audience:${a}`)],
      });
      entry = { appended, path: ledger.path };
    }
    await mark('ledger', { ledger: entry });
    await deps.afterStep?.('ledger');
  }

  // ── storage: one step per location ──
  for (const { region, prefixes, keys } of plan.objects) {
    const step = `storage:${region}`;
    if (done.has(step)) continue;
    const store = platform.storage.forRegion(region);
    let deleted = 0;
    for (const prefix of prefixes) deleted += await store.deletePrefix(prefix);
    for (const key of keys) {
      if (await store.head(key)) deleted++;
      await store.delete(key);
    }
    for (const m of plan.media.filter((x) => x.region === region)) {
      for (const uploadId of m.uploadIds.length ? m.uploadIds : [undefined]) await deps.staging?.removeVideo(region, m.videoId, uploadId).catch(() => undefined);
    }
    const location = platform.config.regions[region]?.storage.driver ?? 'unknown';
    await mark(step, { objects: [...(progress.objects ?? []), { region, location, deleted }] });
    await deps.afterStep?.(step);
  }

  // ── mail outbox: copies of mail addressed to the person, written when no SMTP server is configured ──
  if (!done.has('mail-outbox')) {
    const deleted = plan.identities.email ? await deleteOutboxMail(join(platform.config.dataDir, 'mail-outbox'), plan.identities.email) : 0;
    await mark('mail-outbox', { mailOutbox: { deleted } });
  }

  // ── verify ──
  const retained: TableOutcome[] = progress.retained ?? [];
  const verification = await verifyErasure(platform, { plan, retained });
  const state = verification.ok ? 'done' : 'error';
  const report: ErasureReport = {
    erasureId: plan.erasureId,
    state,
    resumed,
    scope: plan.identities.scope,
    subjects: { users: plan.identities.userIds.length, audienceAccounts: plan.identities.audienceIds.length, email: Boolean(plan.identities.email) },
    accountEnded: plan.endsAccount.length > 0,
    tables: progress.tables ?? [],
    retained,
    audit: progress.audit ?? [],
    objects: progress.objects ?? [],
    mailOutbox: progress.mailOutbox ?? { deleted: 0 },
    ledger: progress.ledger ?? { skipped: 'not reached' },
    verification,
    steps: [...done, 'verify'],
    durationMs: Date.now() - started,
  };
  await db.withPlatform(async (tx) => {
    // Done: the plan (the person's ids) goes; the report names no one. On error it stays, so a rerun can finish.
    await sql`update privacy_erasures set state = ${state}, report = ${JSON.stringify(report)}::jsonb, updated_at = now(),
                plan = ${state === 'done' ? null : JSON.stringify(plan)}::jsonb,
                steps_done = case when ${state} = 'done' then array_append(steps_done, 'verify') else steps_done end,
                completed_at = case when ${state} = 'done' then now() end
              where id = ${plan.erasureId}::uuid`.execute(tx);
    if (state === 'error') {
      await audit.record(tx, ctx, {
        action: 'privacy.subject.erase.verification_failed', outcome: 'failed', tenantId: plan.identities.scope?.[0] ?? PLATFORM_TENANT_ID,
        target: { type: 'erasure', id: plan.erasureId },
        details: { findings: verification.findings.length, places: [...new Set(verification.findings.map((f) => f.where))].slice(0, 20) },
      });
    }
  });
  platform.log.info({ erasureId: plan.erasureId, state, resumed, ms: report.durationMs, findings: verification.findings.length }, 'erasure finished');
  return report;
}

function candidateRefs(platform: Platform, input: ErasureInput): string[] {
  if ('identities' in input) {
    const ids = input.identities;
    return [...(ids.email ? [refOf(platform, 'email', ids.email)] : []), ...ids.userIds.map((u) => refOf(platform, 'user', u))];
  }
  return [...(input.email ? [refOf(platform, 'email', normalizeEmail(input.email))] : []), ...(input.userId ? [refOf(platform, 'user', input.userId)] : [])];
}

function requester(platform: Platform, ctx: RequestContext): string {
  const a = ctx.actor;
  if (a.type === 'system') return `job:${a.job}`;
  if ('userId' in a) return platform.pseudonymize(`subject:${a.userId}`);
  return a.type;
}

function chainsToRecordIn(plan: ErasurePlan): string[] {
  const tenants = plan.identities.scope ?? plan.identities.tenantIds;
  return [...new Set([...tenants, ...(plan.identities.scope ? [] : [PLATFORM_TENANT_ID])])];
}

/** Fixes what the erasure will do before it changes anything. */
async function makePlan(tx: Parameters<typeof locateSubjectIn>[0], identities: SubjectIdentities, erasureId: string): Promise<ErasurePlan> {
  const userIds = identities.userIds;
  const scope = identities.scope;
  const names = userIds.length
    ? (await sql<{ username: string; display_name: string }>`select username, display_name from users where id = any(${userIds}::uuid[])`.execute(tx)).rows
        .flatMap((r) => [r.username, r.display_name]).filter((n) => n && n.trim().length >= 3)
    : [];
  // The account ends unless the person stays a member of a tenant outside the scope.
  const endsAccount = scope
    ? (await sql<{ id: string }>`select u.id from unnest(${userIds}::uuid[]) as u(id)
         where not exists (select 1 from memberships m where m.user_id = u.id and m.tenant_id <> all(${scope}::uuid[]))`.execute(tx)).rows.map((r) => r.id)
    : userIds;
  // Own tenants: the person is their only member, or the tenant says uploads are the uploader's.
  const media = userIds.length
    ? (await sql<{ tenant_id: string; id: string; region: string; upload_ids: string[] | null }>`
        select v.tenant_id, v.id, v.region, array(select u.id::text from uploads u where u.video_id = v.id) as upload_ids
        from videos v join tenants t on t.id = v.tenant_id
        where v.owner_id = any(${userIds}::uuid[]) ${scope ? sql`and v.tenant_id = any(${scope}::uuid[])` : sql``}
          and (coalesce(t.settings #>> '{privacy,uploadsBelongToUploader}', 'false') = 'true'
               or not exists (select 1 from memberships m where m.tenant_id = v.tenant_id and m.user_id <> all(${userIds}::uuid[])))
        order by v.tenant_id, v.id`.execute(tx)).rows
    : [];
  const mediaIds = media.map((m) => m.id);
  const extraKeys = mediaIds.length
    ? (await sql<{ region: string; key: string }>`
        select a.region, a.object_key as key from video_attachments a where a.video_id = any(${mediaIds}::uuid[])
        union select v.region, vv.original_key from video_versions vv join videos v on v.id = vv.video_id where vv.video_id = any(${mediaIds}::uuid[]) and vv.original_key is not null`.execute(tx)).rows
    : [];
  const objects = new Map<string, { region: string; prefixes: string[]; keys: string[] }>();
  const at = (region: string) => objects.get(region) ?? (objects.set(region, { region, prefixes: [], keys: [] }).get(region)!);
  for (const m of media) {
    at(m.region).prefixes.push(`t/${m.tenant_id}/v/${m.id}/`, `tenants/${m.tenant_id}/videos/${m.id}/`);
  }
  for (const k of extraKeys) at(k.region).keys.push(k.key);
  const refs = userIds.length ? await auditTenantsOf(tx, identities) : [];
  return {
    erasureId,
    identities: { email: identities.email, userIds, audienceIds: identities.audienceIds, names: [...new Set(names)], scope, tenantIds: identities.tenantIds },
    endsAccount,
    media: media.map((m) => ({ tenantId: m.tenant_id, videoId: m.id, region: m.region, uploadIds: (m.upload_ids ?? []).filter((u) => /^[a-f0-9]{32}$/.test(u)) })),
    objects: [...objects.values()],
    auditTenants: refs,
  };
}

/** Chains (tenants and the platform's) with an entry naming one of the person's user ids. */
async function auditTenantsOf(tx: Parameters<typeof locateSubjectIn>[0], identities: SubjectIdentities): Promise<string[]> {
  const scope = identities.scope;
  const { rows } = await sql<{ tenant_id: string }>`
    select c.tenant_id from (select id as tenant_id from tenants union all select ${PLATFORM_TENANT_ID}::uuid) c
    where ${scope ? sql`c.tenant_id = any(${scope}::uuid[]) and ` : sql``}
      exists (select 1 from audit_events e where e.tenant_id = c.tenant_id
              and (e.actor_id = any(${identities.userIds}::uuid[]) or (e.target_type = 'user' and e.target_id = any(${identities.userIds}::text[]))))`.execute(tx);
  return rows.map((r) => r.tenant_id);
}

async function deleteOutboxMail(dir: string, email: string): Promise<number> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.eml'));
  } catch {
    return 0;
  }
  let deleted = 0;
  for (const f of files) {
    const text = (await readFile(join(dir, f), 'utf8').catch(() => '')).toLowerCase();
    if (text.includes(email)) {
      await unlink(join(dir, f)).catch(() => undefined);
      deleted++;
    }
  }
  return deleted;
}

// ── the ledger after a restore ─────────────────────────────────────────────

export interface ReapplyResult {
  /** Lines in the ledger (checked). */
  entries: number;
  /** Erasures carried out again: people of the restored database whose identifiers are in the ledger. */
  reErased: { erasureId: string; ledgerErasure: string; state: 'done' | 'error' }[];
}

/**
 * For a freshly restored database, before it takes traffic: every person
 * whose email, user id or viewer account id hashes to a ledger entry is erased
 * again (no new ledger line). Throws erasure_ledger_tampered if the ledger
 * fails its check.
 */
export async function reapplyErasureLedger(deps: ErasureDeps): Promise<ReapplyResult> {
  const { platform } = deps;
  const ledger = deps.ledger ?? defaultLedger(platform);
  const entries = ledger.read();
  const result: ReapplyResult = { entries: entries.length, reErased: [] };
  if (!entries.length) return result;
  const byHash = new Map<string, (typeof entries)[number]>();
  for (const e of entries) for (const h of e.subjects) byHash.set(h, e);

  const candidates = await platform.db.withPlatform(async (tx) => {
    // Tombstones of erased accounts (kept for consent evidence) are already erased.
    const users = (await sql<{ id: string; email: string }>`select id::text, email_normalized as email from users where email_normalized not like '%@erased.invalid'`.execute(tx)).rows;
    const others = (await sql<{ id: string | null; email: string | null }>`
      select id::text, lower(email) as email from audience_accounts
      union all select null, email_normalized from invitations`.execute(tx)).rows;
    return { users, others };
  });
  const found = new Map<string, { email?: string; userId?: string; entry: (typeof entries)[number] }>();
  const consider = (email: string | null | undefined, userId: string | undefined, audienceId?: string | null) => {
    const hashes = [email && ledger.hash(`email:${email}`), userId && ledger.hash(`user:${userId}`), audienceId && ledger.hash(`audience:${audienceId}`)].filter(Boolean) as string[];
    const entry = hashes.map((h) => byHash.get(h)).find(Boolean);
    if (!entry) return;
    const key = userId ?? email ?? audienceId!;
    if (!found.has(key)) found.set(key, { email: email ?? undefined, userId, entry });
  };
  for (const u of candidates.users) consider(u.email, u.id);
  for (const o of candidates.others) consider(o.email, undefined, o.id);

  const ctx = systemContext('privacy.erasure.reapply');
  const seen = new Set<string>();
  for (const { email, userId, entry } of found.values()) {
    const scopes = entry.scope ?? [undefined];
    for (const tenantId of scopes) {
      const once = `${userId ?? email}:${tenantId ?? ''}`;
      if (seen.has(once)) continue;
      seen.add(once);
      try {
        const report = await eraseSubject(deps, userId ? { userId, tenantId } : { email, tenantId }, ctx, { ledger: false });
        result.reErased.push({ erasureId: report.erasureId, ledgerErasure: entry.erasure, state: report.state });
      } catch (err) {
        // Found by another identifier and erased together with it already.
        if ((err as AppError).code !== 'subject_not_found') throw err;
      }
    }
  }
  return result;
}
