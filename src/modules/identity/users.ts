// People and their roles in tenants.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Tx } from '../../platform/db/database.ts';
import { AppError } from '../../platform/errors.ts';
import { hashPassword } from '../../platform/crypto/password.ts';

export const roles = ['owner', 'admin', 'editor', 'viewer'] as const;
export type Role = (typeof roles)[number];

export const emailSchema = z.string().trim().max(254).email('is not a valid email address');
export const passwordSchema = z.string().min(12, 'must be at least 12 characters').max(1024, 'must be at most 1024 characters');

/** Lower-cased, NFKC-normalized form used for uniqueness and lookup. */
export const normalizeEmail = (email: string) => email.normalize('NFKC').trim().toLowerCase();

export interface NewMember { email: string; password?: string; displayName?: string; role: Role }

/** Creates a user (or reuses one with that email) and gives them a role in the tenant. */
export async function addMember(tx: Tx, tenantId: string, input: NewMember): Promise<{ userId: string; created: boolean }> {
  const email = emailSchema.parse(input.email);
  const normalized = normalizeEmail(email);
  let user = await tx.selectFrom('users').select('id').where('email_normalized', '=', normalized).executeTakeFirst();
  let created = false;
  if (!user) {
    const passwordHash = input.password ? await hashPassword(passwordSchema.parse(input.password)) : null;
    user = await tx
      .insertInto('users')
      .values({ id: randomUUID(), email, email_normalized: normalized, display_name: input.displayName ?? '', password_hash: passwordHash })
      .returning('id')
      .executeTakeFirstOrThrow();
    created = true;
  }
  const res = await tx.insertInto('memberships').values({ tenant_id: tenantId, user_id: user.id, role: input.role }).onConflict((oc) => oc.doNothing()).executeTakeFirst();
  if (!created && Number(res.numInsertedOrUpdatedRows ?? 0) === 0) throw new AppError('already_member', 409, 'That person is already a member of this tenant.');
  return { userId: user.id, created };
}
