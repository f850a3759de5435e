// Fixed-window request counters in PostgreSQL, so a limit holds across every
// node behind a load balancer. One upsert per counted request.
import type pg from 'pg';

export interface WindowCount { current: number; ttlMs: number }

export async function countInWindow(pool: pg.Pool, key: string, windowMs: number): Promise<WindowCount> {
  const { rows } = await pool.query(
    `insert into rate_limits as r (key, window_start, count) values ($1, now(), 1)
     on conflict (key) do update set
       count = case when r.window_start + $2 * interval '1 millisecond' <= now() then 1 else r.count + 1 end,
       window_start = case when r.window_start + $2 * interval '1 millisecond' <= now() then now() else r.window_start end
     returning count, greatest(0, extract(epoch from (window_start + $2 * interval '1 millisecond' - now())) * 1000)::int as ttl`,
    [key, windowMs],
  );
  return { current: rows[0].count, ttlMs: rows[0].ttl };
}

/** Removes counters whose window ended (run by a scheduled job). */
export async function sweepRateLimits(pool: pg.Pool, olderThanMs = 24 * 3600_000): Promise<number> {
  const res = await pool.query(`delete from rate_limits where window_start < now() - $1 * interval '1 millisecond'`, [olderThanMs]);
  return res.rowCount ?? 0;
}

/** A store class for @fastify/rate-limit bound to a pool. */
export function pgRateLimitStore(pool: pg.Pool, namespace = 'http') {
  return class PgRateLimitStore {
    private readonly prefix: string;
    constructor(_opts: unknown, prefix = `${namespace}:`) {
      this.prefix = prefix;
    }
    incr(key: string, cb: (err: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number) {
      countInWindow(pool, this.prefix + key, timeWindow).then(
        (r) => cb(null, { current: r.current, ttl: r.ttlMs }),
        (err: Error) => cb(err),
      );
    }
    /** A route with its own limit counts separately (the plugin passes the route as routeInfo). */
    // The published type says RouteOptions; at run time the plugin passes its merged params with routeInfo.
    child(params: object) {
      const route = (params as { routeInfo?: { method?: string | string[]; url?: string } }).routeInfo;
      return new PgRateLimitStore(undefined, `${this.prefix}${[route?.method].flat().join(',')}:${route?.url ?? 'route'}:`);
    }
  };
}
