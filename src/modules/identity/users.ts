// People: validation of the identifiers they are known by, and adding them to
// a tenant.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Tx } from '../../platform/db/database.ts';
import { AppError } from '../../platform/errors.ts';
import { hashPassword } from '../../platform/crypto/password.ts';
import type { TenantRole } from './actor.ts';
import { assertAcceptablePassword } from './passwords.ts';

export const roles = ['owner', 'admin', 'editor', 'viewer'] as const;
export type Role = TenantRole;
export const languages = ['en', 'sv', 'fi', 'de'] as const;

const wellFormed = (s: string) => s.isWellFormed();

/** Letters from two of these scripts in one label are how homoglyph look-alikes are built. */
const SCRIPTS = [/\p{Script=Latin}/u, /\p{Script=Cyrillic}/u, /\p{Script=Greek}/u, /\p{Script=Armenian}/u];
function mixesScripts(label: string): boolean {
  return SCRIPTS.filter((re) => re.test(label)).length > 1;
}

/** Lower-cased, NFKC-normalized form used for uniqueness and lookup. */
export const normalizeEmail = (email: string) => email.normalize('NFKC').trim().toLowerCase();

export const emailSchema = z
  .string()
  .max(254, 'must be at most 254 characters')
  .refine(wellFormed, 'is not valid text')
  .transform((s) => s.normalize('NFKC').trim())
  .refine((s) => /^[^\s@]{1,64}@[^\s@]{1,253}\.[^\s@.]{2,}$/u.test(s), 'is not a valid email address')
  .refine((s) => !s.split(/[@.]/).some(mixesScripts), 'mixes letters of different alphabets (a look-alike address)');

export const usernameSchema = z
  .string()
  .max(32, 'must be at most 32 characters')
  .refine(wellFormed, 'is not valid text')
  .transform((s) => s.normalize('NFKC').trim().toLowerCase())
  .refine((s) => /^[a-z0-9][a-z0-9._-]{2,31}$/.test(s), 'use 3–32 letters a–z, digits, dots, dashes or underscores');

export const displayNameSchema = z.string().max(200).refine(wellFormed, 'is not valid text').transform((s) => s.normalize('NFKC').trim());

export function usernameFromEmail(email: string): string {
  const base = email.split('@')[0]!.normalize('NFKD').toLowerCase().replace(/[^a-z0-9._-]/g, '').replace(/^[._-]+/, '').slice(0, 24);
  return base.length >= 3 ? base : `user${base}`;
}

export interface NewMember { email: string; username?: string; password?: string; displayName?: string; role: Role; emailVerified?: boolean }

/** Creates a user (or reuses the one with that email) and gives them a role in the tenant. */
export async function addMember(tx: Tx, tenantId: string, input: NewMember): Promise<{ userId: string; created: boolean }> {
  const email = emailSchema.parse(input.email);
  const normalized = normalizeEmail(email);
  let user = await tx.selectFrom('users').select('id').where('email_normalized', '=', normalized).executeTakeFirst();
  let created = false;
  if (!user) {
    const username = usernameSchema.parse(input.username ?? (await freeUsername(tx, usernameFromEmail(email))));
    if (input.password) await assertAcceptablePassword(input.password, [normalized.split('@')[0]!, username]);
    const taken = await tx.selectFrom('users').select('id').where('username_normalized', '=', username).executeTakeFirst();
    if (taken) throw new AppError('username_taken', 409, `The username "${username}" is taken.`);
    user = await tx
      .insertInto('users')
      .values({
        id: randomUUID(), username, username_normalized: username, email, email_normalized: normalized,
        display_name: input.displayName ?? '', password_hash: input.password ? await hashPassword(input.password) : null,
        password_changed_at: input.password ? new Date() : null, email_verified_at: input.emailVerified ? new Date() : null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    created = true;
  }
  const res = await tx.insertInto('memberships').values({ tenant_id: tenantId, user_id: user.id, role: input.role }).onConflict((oc) => oc.doNothing()).executeTakeFirst();
  if (Number(res.numInsertedOrUpdatedRows ?? 0) === 0) throw new AppError('already_member', 409, 'That person is already a member of this organization.');
  return { userId: user.id, created };
}

async function freeUsername(tx: Tx, base: string): Promise<string> {
  for (let i = 0; i < 20; i++) {
    const candidate = i === 0 ? base : `${base.slice(0, 27)}${Math.floor(Math.random() * 9000) + 1000}`;
    const taken = await tx.selectFrom('users').select('id').where('username_normalized', '=', candidate).executeTakeFirst();
    if (!taken) return candidate;
  }
  return `user${randomUUID().slice(0, 8)}`;
}
