// Flood guard for beacons: fixed one-minute windows counted in this node's
// memory. Beacons are the one write that needs no session, so they skip the
// global limiter (one PostgreSQL upsert per request) and are bounded here
// instead, per playback and per client address; with N nodes the ceiling is
// N times the limit, which still bounds what reaches the database because
// every node writes only what it buffered (see docs/playback.md).
export interface WindowLimiter {
  /** Counts one hit for the key; false once the key is past its limit in the current window. */
  hit(key: string, limit: number): boolean;
  /** Milliseconds until the current window ends. */
  retryAfterMs(): number;
}

export function createWindowLimiter(windowMs = 60_000, now: () => number = Date.now, maxKeys = 500_000): WindowLimiter {
  let windowStart = now();
  let counts = new Map<string, number>();
  const roll = () => {
    const t = now();
    if (t - windowStart >= windowMs) {
      windowStart = t - ((t - windowStart) % windowMs);
      counts = new Map();
    }
  };
  return {
    hit(key, limit) {
      roll();
      const n = (counts.get(key) ?? 0) + 1;
      // Past maxKeys distinct keys in one window a flood of new keys is under way: refuse new ones until the window rolls.
      if (n === 1 && counts.size >= maxKeys) return false;
      counts.set(key, n);
      return n <= limit;
    },
    retryAfterMs() {
      roll();
      return Math.max(0, windowStart + windowMs - now());
    },
  };
}
