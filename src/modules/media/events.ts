// GET /api/v1/videos/{id}/events: a server-sent event stream of a video's
// processing. The stream polls the video's row (cheap, and correct on any
// node, whichever worker does the work), sends an event when something
// changed and a comment as heartbeat, and ends after ready or failed.
import type { FastifyReply } from 'fastify';
import type { Database } from '../../platform/db/database.ts';
import { notFound } from '../../platform/errors.ts';
import type { RequestContext } from '../identity/actor.ts';
import { authorize } from '../identity/access.ts';
import { isPlayable, renditionsOf } from './store.ts';

const POLL_MS = 1000;
const HEARTBEAT_MS = 15_000;

export interface ProgressSnapshot {
  status: string;
  progress: { percent: number; step: string | null };
  playable: boolean;
  error: { code: string; message: string | null } | null;
  renditions: { name: string; status: string }[];
}

export async function progressSnapshot(db: Database, tenantId: string, videoId: string): Promise<ProgressSnapshot | undefined> {
  return db.withTenant(tenantId, async (tx) => {
    const v = await tx.selectFrom('videos').select(['status', 'progress_percent', 'progress_step', 'error_code', 'error_message']).where('id', '=', videoId).executeTakeFirst();
    if (!v) return undefined;
    const renditions = await renditionsOf(tx, videoId);
    return {
      status: v.status,
      progress: { percent: v.progress_percent, step: v.progress_step },
      playable: renditions.some(isPlayable),
      error: v.error_code ? { code: v.error_code, message: v.error_message } : null,
      renditions: renditions.map((r) => ({ name: r.name, status: r.status })),
    };
  });
}

/** Open streams, ended when the server closes so shutdown does not wait on them. */
export class EventStreams {
  private readonly open = new Set<() => void>();
  private readonly db: Database;

  constructor(db: Database) {
    this.db = db;
  }

  async serve(ctx: RequestContext, videoId: string, reply: FastifyReply): Promise<void> {
    authorize(ctx, 'videos:read');
    const { tenantId } = ctx;
    const req = reply.request;
    let last = await progressSnapshot(this.db, tenantId, videoId);
    if (!last) throw notFound('video');

    const res = reply.raw;
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) res.setHeader(name, value);
    reply.hijack();
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    res.write('retry: 2000\n\n');
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

    let timer: NodeJS.Timeout | undefined;
    const end = () => {
      clearTimeout(timer);
      this.open.delete(end);
      if (!res.writableEnded) res.end();
    };
    this.open.add(end);
    res.once('close', end); // the client went away (or the response ended)

    const terminal = (s: ProgressSnapshot) => s.status === 'ready' || s.status === 'failed';
    send('progress', last);
    let quiet = 0;
    const tick = async () => {
      if (res.writableEnded) return;
      try {
        const now = await progressSnapshot(this.db, tenantId, videoId);
        if (!now) {
          send('gone', { status: 'deleted' });
          return end();
        }
        if (JSON.stringify(now) !== JSON.stringify(last)) {
          send('progress', now);
          last = now;
          quiet = 0;
        } else if ((quiet += POLL_MS) >= HEARTBEAT_MS) {
          res.write(': heartbeat\n\n');
          quiet = 0;
        }
      } catch (err) {
        req.log.warn({ err }, 'video event stream could not read progress');
      }
      if (terminal(last!)) {
        send('end', { status: last!.status });
        return end();
      }
      timer = setTimeout(tick, POLL_MS);
    };
    if (terminal(last)) {
      send('end', { status: last.status });
      end();
    } else {
      timer = setTimeout(tick, POLL_MS);
    }
  }

  closeAll(): void {
    for (const end of [...this.open]) end();
  }
}
