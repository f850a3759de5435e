// Sensitive changes (email, password, second factor) need the password to
// have been confirmed in this session within the last ten minutes.
import type { Tx } from '../../platform/db/database.ts';
import { AppError } from '../../platform/errors.ts';
import type { Clock } from '../../platform/platform.ts';

export const REAUTH_WINDOW_MS = 10 * 60_000;

export async function assertRecentReauth(tx: Tx, sessionId: string, clock: Clock): Promise<void> {
  const s = await tx.selectFrom('sessions').select('reauth_at').where('id', '=', sessionId).executeTakeFirst();
  if (!s?.reauth_at || clock.now().getTime() - s.reauth_at.getTime() > REAUTH_WINDOW_MS) {
    throw new AppError('reauthentication_required', 401, 'Confirm your password first (POST /api/v1/auth/reauthenticate).');
  }
}
