// The job queue: pg-boss on Haven's PostgreSQL. Job definitions are typed by a
// zod schema that parses every payload on send and again on receipt. Region
// jobs go to one queue per region so only workers of that region run them.
import { PgBoss } from 'pg-boss';
import type { z } from 'zod';
import type { Logger } from './log.ts';

export interface JobDefinition<S extends z.ZodType> {
  name: string;
  schema: S;
  /** Region-tagged jobs are sent to `<name>.<region>`; workers of other regions never see them. */
  regional?: boolean;
  retryLimit?: number;
  retryDelaySeconds?: number;
  expireInSeconds?: number;
  /** Workers must heartbeat this often; a silent (killed) worker's job is retried. */
  heartbeatSeconds?: number;
  /** Run on this cron schedule (UTC). */
  cron?: string;
}

export function defineJob<S extends z.ZodType>(def: JobDefinition<S>): JobDefinition<S> {
  return def;
}

export interface JobContext {
  id: string;
  attempt: number;
  signal: AbortSignal;
}

export type JobFailureListener = (queue: string, jobId: string, error: Error, willRetry: boolean) => void;

export interface JobQueueOptions {
  connectionString: string;
  log: Logger;
  regions: string[];
  /** Seconds between supervision passes (expired/heartbeat-less jobs); lower in tests. */
  superviseIntervalSeconds?: number;
  pollingIntervalSeconds?: number;
}

export class JobQueue {
  readonly boss: PgBoss;
  private readonly log: Logger;
  private readonly regions: string[];
  private readonly polling: number;
  private readonly failureListeners: JobFailureListener[] = [];
  private readonly created = new Set<string>();

  constructor(opts: JobQueueOptions) {
    this.log = opts.log;
    this.regions = opts.regions;
    this.polling = opts.pollingIntervalSeconds ?? 1;
    this.boss = new PgBoss({
      connectionString: opts.connectionString,
      schema: 'pgboss',
      max: 4,
      application_name: 'haven-jobs',
      superviseIntervalSeconds: opts.superviseIntervalSeconds ?? 30,
      maintenanceIntervalSeconds: Math.max(opts.superviseIntervalSeconds ?? 30, 60),
      openTelemetry: { enabled: false },
    });
    this.boss.on('error', (err) => this.log.error({ err }, 'job queue error'));
  }

  async start(): Promise<void> {
    await this.boss.start();
  }

  onFailure(listener: JobFailureListener): void {
    this.failureListeners.push(listener);
  }

  queueName(def: JobDefinition<z.ZodType>, region?: string): string {
    if (!def.regional) return def.name;
    if (!region || !this.regions.includes(region)) throw new Error(`job ${def.name} needs a configured region, got ${region ?? 'none'}`);
    return `${def.name}.${region}`;
  }

  /** Creates the queue (and its dead-letter queue) for a definition. Idempotent. */
  async register(def: JobDefinition<z.ZodType>): Promise<void> {
    const names = def.regional ? this.regions.map((r) => `${def.name}.${r}`) : [def.name];
    for (const name of names) {
      if (this.created.has(name)) continue;
      const dlq = `${name}.dead`;
      await this.boss.createQueue(dlq, { retentionSeconds: 30 * 86400 });
      await this.boss.createQueue(name, {
        retryLimit: def.retryLimit ?? 3,
        retryDelay: def.retryDelaySeconds ?? 5,
        retryBackoff: true,
        retryDelayMax: 600,
        expireInSeconds: def.expireInSeconds ?? 900,
        ...(def.heartbeatSeconds ? { heartbeatSeconds: def.heartbeatSeconds } : {}),
        deadLetter: dlq,
      });
      this.created.add(name);
    }
    if (def.cron) await this.boss.schedule(def.name, def.cron, {}, { tz: 'UTC' });
  }

  async send<S extends z.ZodType>(def: JobDefinition<S>, data: z.input<S>, opts: { region?: string; singletonKey?: string; startAfterSeconds?: number } = {}): Promise<string | null> {
    const payload = def.schema.parse(data) as object;
    await this.register(def);
    return this.boss.send(this.queueName(def, opts.region), payload, {
      singletonKey: opts.singletonKey,
      startAfter: opts.startAfterSeconds,
    });
  }

  /** Runs handler for jobs of def (of one region, or every configured region). */
  async work<S extends z.ZodType>(def: JobDefinition<S>, handler: (data: z.output<S>, ctx: JobContext) => Promise<unknown>, opts: { concurrency?: number; region?: string } = {}): Promise<void> {
    await this.register(def);
    const queues = def.regional ? (opts.region ? [this.queueName(def, opts.region)] : this.regions.map((r) => `${def.name}.${r}`)) : [def.name];
    for (const queue of queues) {
      await this.boss.work<unknown>(queue, { localConcurrency: opts.concurrency ?? 1, pollingIntervalSeconds: this.polling }, async ([job]) => {
        if (!job) return;
        try {
          const data = def.schema.parse(job.data);
          return await handler(data, { id: job.id, attempt: job.retryCount, signal: job.signal });
        } catch (err) {
          const error = err instanceof Error ? err : new Error(String(err));
          const willRetry = job.retryCount < (def.retryLimit ?? 3);
          this.log.warn({ err: error, queue, jobId: job.id, attempt: job.retryCount, willRetry }, 'job failed');
          for (const l of this.failureListeners) l(queue, job.id, error, willRetry);
          throw error;
        }
      });
    }
  }

  /** Counts of jobs per queue and state (for /metrics and the operator). */
  async counts(): Promise<{ queue: string; state: string; count: number }[]> {
    const db = this.boss.getDb();
    const res = await db.executeSql('select name as queue, state, count(*)::int as count from pgboss.job group by 1, 2');
    return res.rows as { queue: string; state: string; count: number }[];
  }

  async ping(): Promise<void> {
    await this.boss.getDb().executeSql('select 1 from pgboss.version limit 1');
  }

  /** Stops fetching, lets running jobs finish (up to timeoutMs), then closes. */
  async stop(timeoutMs = 20_000): Promise<void> {
    await this.boss.stop({ graceful: true, timeout: timeoutMs, close: true });
  }
}
