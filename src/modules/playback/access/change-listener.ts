// Listens on haven_playback_changed on its own connection and tells the
// grant cache what changed. The cache is live only between a confirmed
// LISTEN and the first sign of trouble: an error, the connection ending, or
// a barrier round trip that does not come back in time (a connection can
// die without the socket saying so). Then it reconnects after a pause; until
// it has, every key fetch asks the database.
//
// The barrier: a fetch may use the cache only after a round trip on this
// connection that started after the fetch arrived (PostgreSQL delivers a
// listening session's pending notifications before it answers). One round
// trip is in flight at a time; fetches arriving meanwhile wait for the next
// one together, so under load one trivial query serves many fetches.
import pg from 'pg';
import type { Logger } from '../../../platform/log.ts';
import { withTimeout } from '../../../platform/timeout.ts';
import type { GrantCache } from './grant-cache.ts';

export const PLAYBACK_CHANGED_CHANNEL = 'haven_playback_changed';
/** application_name of the listener's connection (operators and tests find it by this). */
export const LISTENER_APPLICATION_NAME = 'haven-playback-grants';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface ChangeListenerOptions {
  reconnectMs?: number;
  /** A barrier slower than this counts as a lost connection (its fetches ask the database). */
  barrierTimeoutMs?: number;
}

export interface ChangeListener {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function listenForPlaybackChanges(connectionString: string, cache: GrantCache, log: Logger, opts: ChangeListenerOptions = {}): ChangeListener {
  const reconnectMs = opts.reconnectMs ?? 1000;
  const barrierTimeoutMs = opts.barrierTimeoutMs ?? 1000;
  let client: pg.Client | undefined;
  let stopped = false;
  let reconnectTimer: NodeJS.Timeout | undefined;

  const handle = (payload: string | undefined) => {
    // Anyone with the app role can NOTIFY; what is not one of ours clears everything (never keeps anything).
    const [kind, id, userId, extra] = (payload ?? '').split(':');
    if (extra === undefined && id && UUID.test(id)) {
      if (userId === undefined) {
        if (kind === 'v') return cache.videoChanged(id);
        if (kind === 't') return cache.tenantChanged(id);
      } else if (kind === 'm' && UUID.test(userId)) {
        return cache.memberChanged(id, userId);
      }
    }
    cache.everythingChanged();
  };

  function lost(c: pg.Client, err?: unknown) {
    if (client !== c) return;
    client = undefined;
    cache.setLive(false);
    c.end().catch(() => undefined);
    if (stopped) return;
    log.warn({ err }, 'playback grant listener lost its connection; key fetches ask the database until it is back');
    schedule();
  }

  /** The shared round trip of one connection: waiters that arrived while one was in flight go with the next. */
  function barrierFor(c: pg.Client): () => Promise<boolean> {
    let inFlight = false;
    let waiting: ((ok: boolean) => void)[] = [];
    const run = () => {
      const batch = waiting;
      waiting = [];
      inFlight = true;
      withTimeout(c.query('select 1'), barrierTimeoutMs, 'barrier round trip').then(
        () => client === c,
        (err) => {
          lost(c, err);
          return false;
        },
      ).then((ok) => {
        for (const resolve of batch) resolve(ok);
        inFlight = false;
        if (waiting.length) run();
      });
    };
    return () => new Promise<boolean>((resolve) => {
      waiting.push(resolve);
      if (!inFlight) run();
    });
  }

  async function connect(): Promise<void> {
    if (stopped) return;
    const c = new pg.Client({ connectionString, application_name: LISTENER_APPLICATION_NAME, keepAlive: true, keepAliveInitialDelayMillis: 10_000 });
    c.on('notification', (msg) => {
      if (msg.channel === PLAYBACK_CHANGED_CHANNEL) handle(msg.payload);
    });
    c.on('error', (err) => lost(c, err));
    c.on('end', () => lost(c));
    try {
      await c.connect();
      await c.query(`listen ${PLAYBACK_CHANGED_CHANNEL}`);
      if (stopped) {
        await c.end();
        return;
      }
      client = c;
      cache.setLive(true, barrierFor(c));
    } catch (err) {
      c.end().catch(() => undefined);
      if (stopped) return;
      log.warn({ err }, 'playback grant listener could not connect; trying again');
      schedule();
    }
  }

  function schedule() {
    if (stopped || reconnectTimer) return;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      void connect();
    }, reconnectMs);
    reconnectTimer.unref();
  }

  return {
    // Does not wait for the connection: until it is up, the cache is bypassed.
    async start() {
      void connect();
    },
    async stop() {
      stopped = true;
      clearTimeout(reconnectTimer);
      cache.setLive(false);
      const c = client;
      client = undefined;
      await c?.end().catch(() => undefined);
    },
  };
}
