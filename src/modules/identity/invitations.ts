// Invitations: an organization's admins ask someone to join by email. The
// answer to "invite this address" never depends on whether the address has a
// Haven account (no user enumeration): creating one does not look at users at
// all, and the mail is sent after the answer. An address that already is a
// member gets an ordinary invitation too; accepting it leaves the membership
// as it is and signs the person in.
import { randomUUID } from 'node:crypto';
import type { Tx } from '../../platform/db/database.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import type { Platform } from '../../platform/platform.ts';
import { type RequestContext, systemContext, type TenantRole } from './actor.ts';
import { authorize } from './access.ts';
import type { AuditPort } from './audit-port.ts';
import type { EmailVars } from './emails.ts';
import { hashSecret, newSecret } from './secrets.ts';
import { effectiveSettings } from './settings.ts';
import { userById } from './store.ts';
import { emailSchema, languages, normalizeEmail } from './users.ts';

export const INVITATION_TTL_MS = 7 * 24 * 3600_000;
type Language = (typeof languages)[number];

export type InvitationStatus = 'pending' | 'expired' | 'accepted' | 'revoked';
export interface InvitationView {
  id: string;
  email: string;
  role: TenantRole;
  language: Language;
  status: InvitationStatus;
  invitedBy: string | null;
  expiresAt: Date;
  createdAt: Date;
  acceptedAt: Date | null;
  revokedAt: Date | null;
}

export interface InvitationRow {
  id: string; tenant_id: string; email: string; email_normalized: string; role: TenantRole; language: Language; invited_by: string | null;
  token_hash: Buffer; expires_at: Date; accepted_at: Date | null; revoked_at: Date | null; created_at: Date;
}

export interface NewInvitation { email: string; role: TenantRole; language?: string }

/** The invitation, and its mail on the way: resolves false (never rejects) when it could not be sent. */
export interface Issued { invitation: InvitationView; delivery: Promise<boolean> }

export interface InvitationDeps {
  platform: Platform;
  audit: AuditPort;
  publicUrl: string;
  sendInvitation(to: string, language: string, vars: EmailVars['invitation']): Promise<void>;
}

export const statusOf = (r: InvitationRow, now: Date): InvitationStatus =>
  r.revoked_at ? 'revoked' : r.accepted_at ? 'accepted' : r.expires_at <= now ? 'expired' : 'pending';

const view = (r: InvitationRow, now: Date): InvitationView => ({
  id: r.id, email: r.email, role: r.role, language: r.language, status: statusOf(r, now), invitedBy: r.invited_by,
  expiresAt: r.expires_at, createdAt: r.created_at, acceptedAt: r.accepted_at, revokedAt: r.revoked_at,
});

export function parseEmail(raw: string): string {
  const parsed = emailSchema.safeParse(raw);
  if (!parsed.success) throw new AppError('invalid_request', 400, `Invalid email: ${parsed.error.issues[0]?.message ?? 'not an address'}.`);
  return parsed.data;
}

/** The tenant's name, whether it is still active, and the email domains it accepts. */
export async function tenantPolicy(tx: Tx, tenantId: string) {
  const t = await tx.selectFrom('tenants').select(['name', 'slug', 'status', 'settings', 'security_level']).where('id', '=', tenantId).executeTakeFirst();
  if (!t) throw notFound('tenant');
  return { name: t.name as string, slug: t.slug as string, active: t.status === 'active', domains: effectiveSettings(t.settings, t.security_level).allowedEmailDomains };
}

export function assertDomainAllowed(domains: string[], normalizedEmail: string): void {
  if (domains.length && !domains.includes(normalizedEmail.split('@')[1]!)) {
    throw new AppError('email_domain_not_allowed', 400, `This organization only accepts addresses at ${domains.join(', ')}.`);
  }
}

const actorRole = (ctx: RequestContext) => (ctx.actor.type === 'user' || ctx.actor.type === 'api_token' ? ctx.actor.role : undefined);

/** As with roles (people.ts): only an owner may make, or unmake, an owner. */
function assertMayInviteAs(ctx: RequestContext, role: TenantRole): void {
  if (role === 'owner' && actorRole(ctx) !== 'owner') throw new AppError('forbidden', 403, 'Only an owner can invite an owner.');
}

export function createInvitationService(deps: InvitationDeps) {
  const { platform, audit, publicUrl } = deps;
  const { db, clock, log } = platform;

  async function inviterName(tx: Tx, ctx: RequestContext): Promise<string> {
    const userId = ctx.actor.type === 'user' || ctx.actor.type === 'api_token' ? ctx.actor.userId : undefined;
    const user = userId ? await userById(tx, userId) : undefined;
    return user ? user.display_name || user.username : 'Haven';
  }

  function deliver(row: InvitationRow, token: string, vars: { tenantName: string; inviterName: string }): Promise<boolean> {
    const acceptUrl = `${publicUrl}/invite#token=${token}`;
    return deps.sendInvitation(row.email, row.language, { ...vars, acceptUrl, expiresAt: row.expires_at }).then(
      () => true,
      (err) => {
        log.error({ err, invitation: row.id }, 'invitation mail not sent');
        return false;
      },
    );
  }

  /** An open invitation of this tenant, for revoke and resend. */
  async function openInvitation(tx: Tx, tenantId: string, id: string): Promise<InvitationRow> {
    const row = (await tx.selectFrom('invitations').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).forUpdate().executeTakeFirst()) as InvitationRow | undefined;
    if (!row) throw notFound('invitation');
    if (row.accepted_at || row.revoked_at) throw new AppError('invitation_closed', 409, `This invitation was already ${row.accepted_at ? 'accepted' : 'revoked'}.`);
    return row;
  }

  async function issue(ctx: RequestContext, tenantId: string, input: NewInvitation): Promise<Issued> {
    const email = parseEmail(input.email);
    const normalized = normalizeEmail(email);
    const language = input.language ?? 'en';
    if (!(languages as readonly string[]).includes(language)) throw new AppError('invalid_request', 400, `Invalid language: use one of ${languages.join(', ')}.`);
    const token = newSecret('inv_');
    const now = clock.now();
    try {
      const { row, vars } = await db.withTenant(tenantId, async (tx) => {
        const tenant = await tenantPolicy(tx, tenantId);
        assertDomainAllowed(tenant.domains, normalized);
        const row = (await tx
          .insertInto('invitations')
          .values({
            id: randomUUID(), tenant_id: tenantId, email, email_normalized: normalized, role: input.role, language,
            invited_by: ctx.actor.type === 'user' || ctx.actor.type === 'api_token' ? ctx.actor.userId : null,
            token_hash: hashSecret(token), expires_at: new Date(now.getTime() + INVITATION_TTL_MS), created_at: now,
          })
          .returningAll()
          .executeTakeFirstOrThrow()) as InvitationRow;
        await audit.record(tx, ctx, { action: 'invitation.create', target: { type: 'invitation', id: row.id }, details: { role: input.role, language } });
        return { row, vars: { tenantName: tenant.name, inviterName: await inviterName(tx, ctx) } };
      });
      // Started after the commit and not awaited by HTTP callers: the answer
      // takes as long whatever the address.
      return { invitation: view(row, now), delivery: deliver(row, token, vars) };
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw new AppError('invitation_exists', 409, 'An invitation to that address is still open; resend or revoke it.');
      throw err;
    }
  }

  return {
    async create(ctx: RequestContext, input: NewInvitation): Promise<Issued> {
      authorize(ctx, 'users:write');
      assertMayInviteAs(ctx, input.role);
      return issue(ctx, ctx.tenantId, input);
    },

    /** haven user create without a password: the operator may invite any role. */
    createByOperator(tenantId: string, input: NewInvitation): Promise<Issued> {
      return issue(systemContext('operator', tenantId), tenantId, input);
    },

    async list(ctx: RequestContext): Promise<InvitationView[]> {
      authorize(ctx, 'users:read');
      const now = clock.now();
      const rows = await db.withTenant(ctx.tenantId, (tx) =>
        tx.selectFrom('invitations').selectAll().where('tenant_id', '=', ctx.tenantId).orderBy('created_at', 'desc').limit(500).execute());
      return (rows as InvitationRow[]).map((r) => view(r, now));
    },

    async revoke(ctx: RequestContext, id: string): Promise<void> {
      authorize(ctx, 'users:write');
      await db.withTenant(ctx.tenantId, async (tx) => {
        const row = await openInvitation(tx, ctx.tenantId, id);
        assertMayInviteAs(ctx, row.role);
        await tx.updateTable('invitations').set({ revoked_at: clock.now() }).where('id', '=', id).execute();
        await audit.record(tx, ctx, { action: 'invitation.revoke', target: { type: 'invitation', id } });
      });
    },

    /** A new link (the old one stops working) valid for another seven days. */
    async resend(ctx: RequestContext, id: string): Promise<Issued> {
      authorize(ctx, 'users:write');
      const token = newSecret('inv_');
      const now = clock.now();
      const { row, vars } = await db.withTenant(ctx.tenantId, async (tx) => {
        const open = await openInvitation(tx, ctx.tenantId, id);
        assertMayInviteAs(ctx, open.role);
        const tenant = await tenantPolicy(tx, ctx.tenantId);
        assertDomainAllowed(tenant.domains, open.email_normalized);
        const row = (await tx
          .updateTable('invitations')
          .set({ token_hash: hashSecret(token), expires_at: new Date(now.getTime() + INVITATION_TTL_MS) })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirstOrThrow()) as InvitationRow;
        await audit.record(tx, ctx, { action: 'invitation.resend', target: { type: 'invitation', id } });
        return { row, vars: { tenantName: tenant.name, inviterName: await inviterName(tx, ctx) } };
      });
      return { invitation: view(row, now), delivery: deliver(row, token, vars) };
    },
  };
}

export type InvitationService = ReturnType<typeof createInvitationService>;
