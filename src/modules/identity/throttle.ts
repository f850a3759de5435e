// Login throttling, counted before any password hash is computed so a spray
// of wrong passwords costs two indexed upserts each, not an argon2 run; a
// successful attempt is taken back off the count. Counters live in PostgreSQL
// (rate_limits), so limits hold across nodes.
import type pg from 'pg';
import { countInWindow } from '../../platform/http/rate-limit-store.ts';
import type { Pseudonymize } from '../../platform/crypto/pseudonym.ts';

export interface ThrottleLimits {
  /** Failures per account per window before the account is locked. */
  accountFailures: number;
  accountWindowMs: number;
  /** Failures per client address per window before it is refused. */
  ipFailures: number;
  ipWindowMs: number;
}

export const defaultThrottleLimits: ThrottleLimits = {
  accountFailures: 100,
  accountWindowMs: 3600_000,
  ipFailures: 30,
  ipWindowMs: 900_000,
};

export interface AttemptGate {
  /** Over a limit: refuse without checking the password. */
  blocked: boolean;
  retryAfterSeconds: number;
  /** This attempt is the account's last allowed one: if it fails, lock the account. */
  lastForAccount: boolean;
}

export interface LoginThrottle {
  /**
   * Counts an attempt before any password is checked, so concurrent attempts
   * cannot all slip past a check made before the earlier ones finished hashing.
   */
  attempt(ip: string, account: string): Promise<AttemptGate>;
  /** The attempt succeeded: it no longer counts as a failure. */
  succeeded(ip: string, account: string): Promise<void>;
}

export function createLoginThrottle(pool: pg.Pool, pseudonymize: Pseudonymize, limits = defaultThrottleLimits): LoginThrottle {
  // Keys hold pseudonyms: the counters table is no place for emails or IPs.
  const ipKey = (ip: string) => `login:ip:${pseudonymize(ip)}`;
  const accountKey = (account: string) => `login:account:${pseudonymize(account)}`;

  return {
    async attempt(ip, account) {
      const [byIp, byAccount] = await Promise.all([countInWindow(pool, ipKey(ip), limits.ipWindowMs), countInWindow(pool, accountKey(account), limits.accountWindowMs)]);
      const ipBlocked = byIp.current > limits.ipFailures;
      const accountBlocked = byAccount.current > limits.accountFailures;
      const ttl = Math.max(ipBlocked ? byIp.ttlMs : 0, accountBlocked ? byAccount.ttlMs : 0);
      return { blocked: ipBlocked || accountBlocked, retryAfterSeconds: Math.ceil(ttl / 1000), lastForAccount: byAccount.current === limits.accountFailures };
    },
    async succeeded(ip, account) {
      await pool.query('update rate_limits set count = greatest(count - 1, 0) where key = any($1)', [[ipKey(ip), accountKey(account)]]);
    },
  };
}
