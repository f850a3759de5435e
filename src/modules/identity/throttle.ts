// Login throttling, checked before any password hash is computed so a spray
// of wrong passwords costs one indexed upsert each, not an argon2 run. Counters
// live in PostgreSQL (rate_limits), so limits hold across nodes.
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

export interface LoginThrottle {
  /** True when this address or account may not try now. Does not count. */
  blocked(ip: string, account: string): Promise<{ blocked: boolean; retryAfterSeconds: number }>;
  /** Counts a failure; returns true when the account just reached its limit. */
  fail(ip: string, account: string): Promise<{ accountLocked: boolean }>;
}

export function createLoginThrottle(pool: pg.Pool, pseudonymize: Pseudonymize, limits = defaultThrottleLimits): LoginThrottle {
  // Keys hold pseudonyms: the counters table is no place for emails or IPs.
  const ipKey = (ip: string) => `login:ip:${pseudonymize(ip)}`;
  const accountKey = (account: string) => `login:account:${pseudonymize(account)}`;

  async function peek(key: string, windowMs: number): Promise<{ count: number; ttlMs: number }> {
    const { rows } = await pool.query(
      `select count, greatest(0, extract(epoch from (window_start + $2 * interval '1 millisecond' - now())) * 1000)::int as ttl
       from rate_limits where key = $1 and window_start + $2 * interval '1 millisecond' > now()`,
      [key, windowMs],
    );
    return rows[0] ? { count: rows[0].count, ttlMs: rows[0].ttl } : { count: 0, ttlMs: 0 };
  }

  return {
    async blocked(ip, account) {
      const [byIp, byAccount] = await Promise.all([peek(ipKey(ip), limits.ipWindowMs), peek(accountKey(account), limits.accountWindowMs)]);
      const ipBlocked = byIp.count >= limits.ipFailures;
      const accountBlocked = byAccount.count >= limits.accountFailures;
      const ttl = Math.max(ipBlocked ? byIp.ttlMs : 0, accountBlocked ? byAccount.ttlMs : 0);
      return { blocked: ipBlocked || accountBlocked, retryAfterSeconds: Math.ceil(ttl / 1000) };
    },
    async fail(ip, account) {
      const [, byAccount] = await Promise.all([countInWindow(pool, ipKey(ip), limits.ipWindowMs), countInWindow(pool, accountKey(account), limits.accountWindowMs)]);
      return { accountLocked: byAccount.current === limits.accountFailures };
    },
  };
}
