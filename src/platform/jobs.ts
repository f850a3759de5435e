// The job queue: pg-boss on Haven's PostgreSQL. Job definitions are typed by a
// zod schema that parses every payload on send and again on receipt. Region
// jobs go to one queue per region so only workers of that region run them.
//
// Delivery is at least once: a worker killed mid-job stops heartbeating, the
// supervisor fails the attempt and another worker runs it again. Handlers make
// that exactly-once in effect by keying what they write on the job id (or on
// the domain object) so a second run finds the work done.
import { PgBoss, type JobResult } from 'pg-boss';
import type { z } from 'zod';
import { AppError } from './errors.ts';
import type { Logger } from './log.ts';

export interface JobDefinition<S extends z.ZodType> {
  name: string;
  schema: S;
  /** Region-tagged jobs are sent to `<name>.<region>`; workers of other regions never see them. */
  regional?: boolean;
  /** Retries after the first attempt; past it the job moves to `<queue>.dead`. Default 3. */
  retryLimit?: number;
  /** First retry delay; later ones double (with jitter) up to 10 minutes. Default 5. */
  retryDelaySeconds?: number;
  expireInSeconds?: number;
  /** Workers must heartbeat this often (at least 10); a silent (killed) worker's job is retried. */
  heartbeatSeconds?: number;
  /** Run on this cron schedule (UTC) with the payload `{}`, which the schema must accept. */
  cron?: string;
}

export function defineJob<S extends z.ZodType>(def: JobDefinition<S>): JobDefinition<S> {
  return def;
}

export interface JobContext {
  id: string;
  /** 1 on the first run, 2 on the first retry, … */
  attempt: number;
  /** The region of a regional job's queue. */
  region?: string;
  /** Aborted when the worker stops past its grace period or loses the job's claim. */
  signal: AbortSignal;
}

export type JobFailureListener = (queue: string, jobId: string, error: Error, willRetry: boolean) => void;

/** A job that failed past its retries and waits in a dead-letter queue for an operator. */
export interface DeadJob {
  /** Its id in the dead-letter queue. */
  id: string;
  /** The queue it failed on, where a redrive sends it back. */
  queue: string;
  deadLetterQueue: string;
  /** The id send() returned for the job that failed. */
  originalId: string | null;
  failedAt: Date;
  attempts: number;
  error: string | null;
}

export interface JobCount { queue: string; state: string; count: number }

export interface JobQueueOptions {
  connectionString: string;
  log: Logger;
  regions: string[];
  /** Seconds between supervision passes (expired and heartbeat-less jobs are failed); lower in tests. */
  superviseIntervalSeconds?: number;
  /** Seconds between a worker's polls for jobs sent on demand (default 1). */
  pollingIntervalSeconds?: number;
  /**
   * Seconds between polls of a queue fed by a cron schedule (default 10).
   * Schedules have minute granularity, and a job sent in this process wakes
   * its worker at once, so polling them every second only costs an idle
   * node a query per queue per second.
   */
  scheduledPollingIntervalSeconds?: number;
  /** Applied to error messages before they are stored on a job row (e.g. to pseudonymize emails). */
  scrubErrorText?: (text: string) => string;
}

const DEFAULT_RETRY_LIMIT = 3;
const DEAD_LETTER_RETENTION_SECONDS = 30 * 86400;
const REDRIVE_BATCH = 1000;

export class JobQueue {
  readonly boss: PgBoss;
  private readonly log: Logger;
  private readonly regions: string[];
  private readonly polling: number;
  private readonly scheduledPolling: number;
  private readonly scrub: (text: string) => string;
  private readonly failureListeners: JobFailureListener[] = [];
  private readonly registered = new Map<string, Promise<void>>();
  /** This process's pg-boss workers, by queue: a job sent here wakes them at once instead of at their next poll. */
  private readonly localWorkers = new Map<string, string[]>();

  constructor(opts: JobQueueOptions) {
    this.log = opts.log;
    this.regions = opts.regions;
    this.polling = opts.pollingIntervalSeconds ?? 1;
    this.scheduledPolling = opts.scheduledPollingIntervalSeconds ?? 10;
    this.scrub = opts.scrubErrorText ?? ((text) => text);
    const supervise = opts.superviseIntervalSeconds ?? 30;
    this.boss = new PgBoss({
      connectionString: opts.connectionString,
      schema: 'pgboss',
      max: 4,
      application_name: 'haven-jobs',
      superviseIntervalSeconds: supervise,
      // A supervision pass only fails a queue's expired and heartbeat-less jobs
      // once its monitor interval has passed, so the two move together.
      monitorIntervalSeconds: supervise,
      maintenanceIntervalSeconds: Math.max(supervise, 60),
      openTelemetry: { enabled: false },
    });
    this.boss.on('error', (err) => this.log.error({ err }, 'job queue error'));
    // A slow-query warning carries the statement's values, which can be job payloads: not for the logs.
    this.boss.on('warning', ({ message, data }) => {
      const { values: _values, ...detail } = data as Record<string, unknown>;
      this.log.warn({ warning: detail }, `job queue: ${message}`);
    });
  }

  async start(): Promise<void> {
    await this.boss.start();
  }

  onFailure(listener: JobFailureListener): void {
    this.failureListeners.push(listener);
  }

  queueName(def: JobDefinition<z.ZodType>, region?: string): string {
    if (!def.regional) return def.name;
    if (!region || !this.regions.includes(region)) {
      throw new AppError('job_region_invalid', 500, `job ${def.name} needs one of the configured regions (${this.regions.join(', ')}), got ${region ?? 'none'}`);
    }
    return `${def.name}.${region}`;
  }

  private queuesOf(def: JobDefinition<z.ZodType>): string[] {
    return def.regional ? this.regions.map((r) => `${def.name}.${r}`) : [def.name];
  }

  /**
   * Creates the queues of a definition (one per region for regional jobs), each
   * with its dead-letter queue, brings their settings in line with the
   * definition, and registers its cron schedule. Once per process and definition.
   */
  register(def: JobDefinition<z.ZodType>): Promise<void> {
    let done = this.registered.get(def.name);
    if (!done) {
      done = this.createQueues(def);
      this.registered.set(def.name, done);
      done.catch(() => this.registered.delete(def.name));
    }
    return done;
  }

  private async createQueues(def: JobDefinition<z.ZodType>): Promise<void> {
    const cronPayload = def.cron ? def.schema.safeParse({}) : undefined;
    if (cronPayload && !cronPayload.success) {
      throw new AppError('job_definition_invalid', 500, `job ${def.name} runs on a cron schedule, so its schema must accept the payload {}`);
    }
    const settings = {
      retryLimit: def.retryLimit ?? DEFAULT_RETRY_LIMIT,
      retryDelay: def.retryDelaySeconds ?? 5,
      retryBackoff: true,
      retryDelayMax: 600,
      expireInSeconds: def.expireInSeconds ?? 900,
    };
    for (const name of this.queuesOf(def)) {
      const deadLetter = `${name}.dead`;
      await this.boss.createQueue(deadLetter, { retentionSeconds: DEAD_LETTER_RETENTION_SECONDS });
      await this.boss.createQueue(name, { ...settings, deadLetter, ...(def.heartbeatSeconds ? { heartbeatSeconds: def.heartbeatSeconds } : {}) });
      // createQueue leaves an existing queue as it was; a changed definition must still take effect.
      await this.boss.updateQueue(name, { ...settings, deadLetter, heartbeatSeconds: def.heartbeatSeconds ?? null });
      if (def.cron) await this.boss.schedule(name, def.cron, cronPayload!.data as object, { tz: 'UTC' });
    }
  }

  /** Parses data by the definition's schema and queues it; nothing is queued when it does not parse. */
  async send<S extends z.ZodType>(def: JobDefinition<S>, data: z.input<S>, opts: { region?: string; singletonKey?: string; startAfterSeconds?: number } = {}): Promise<string | null> {
    const parsed = def.schema.safeParse(data);
    if (!parsed.success) {
      throw new AppError('job_payload_invalid', 500, `job ${def.name}: payload does not match its schema`, parsed.error.issues);
    }
    const queue = this.queueName(def, opts.region);
    await this.register(def);
    const id = await this.boss.send(queue, parsed.data as object, {
      singletonKey: opts.singletonKey,
      startAfter: opts.startAfterSeconds,
    });
    // Workers elsewhere find the job at their next poll; one in this process need not wait for it.
    if (id && !opts.startAfterSeconds) for (const worker of this.localWorkers.get(queue) ?? []) this.boss.notifyWorker(worker);
    return id;
  }

  /** Runs handler for jobs of def (of one region, or every configured region). */
  async work<S extends z.ZodType>(def: JobDefinition<S>, handler: (data: z.output<S>, ctx: JobContext) => Promise<unknown>, opts: { concurrency?: number; region?: string } = {}): Promise<void> {
    await this.register(def);
    const regions = !def.regional ? [undefined] : opts.region ? [opts.region] : this.regions;
    for (const region of regions) {
      const queue = this.queueName(def, region);
      const retryLimit = def.retryLimit ?? DEFAULT_RETRY_LIMIT;
      const worker = await this.boss.work<unknown>(queue, { localConcurrency: opts.concurrency ?? 1, pollingIntervalSeconds: def.cron ? this.scheduledPolling : this.polling, perJobResults: true }, async ([job]): Promise<JobResult[]> => {
        if (!job) return [];
        const parsed = def.schema.safeParse(job.data);
        if (!parsed.success) {
          // Retrying cannot fix a payload, so it goes straight to the dead letters.
          const error = new Error(`payload does not match the schema of ${def.name}: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'payload'} ${i.message}`).join('; ')}`);
          this.reportFailure(queue, job.id, job.retryCount, error, false);
          return [{ id: job.id, status: 'deadletter', output: this.storedError(error) }];
        }
        try {
          const result = await handler(parsed.data, { id: job.id, attempt: job.retryCount + 1, region, signal: job.signal });
          return [{ id: job.id, status: 'completed', output: result ?? null }];
        } catch (err) {
          const error = err instanceof Error ? err : new Error(String(err));
          this.reportFailure(queue, job.id, job.retryCount, error, job.retryCount < retryLimit);
          return [{ id: job.id, status: 'failed', output: this.storedError(error) }];
        }
      });
      this.localWorkers.set(queue, [...(this.localWorkers.get(queue) ?? []), worker]);
    }
  }

  /** What is kept of an error on the job row: the stack stays in the logs. */
  private storedError(error: Error): { name: string; message: string; code?: string } {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: this.scrub(error.message), ...(typeof code === 'string' ? { code } : {}) };
  }

  private reportFailure(queue: string, jobId: string, retryCount: number, error: Error, willRetry: boolean): void {
    this.log.warn({ err: error, queue, jobId, attempt: retryCount + 1, willRetry }, 'job failed');
    for (const listener of this.failureListeners) listener(queue, jobId, error, willRetry);
  }

  /** Counts of jobs per queue and state (for /metrics and the operator). */
  async counts(): Promise<JobCount[]> {
    const res = await this.boss.getDb().executeSql('select name as queue, state::text as state, count(*)::int as count from pgboss.job group by 1, 2 order by 1, 2');
    return res.rows as JobCount[];
  }

  /**
   * Jobs waiting in dead-letter queues, oldest first; with `queue`, only those
   * that failed on that queue (or waiting in that dead-letter queue).
   */
  async deadJobs(opts: { queue?: string; limit?: number } = {}): Promise<DeadJob[]> {
    const deadLetterQueues = await this.deadLetterQueues(opts.queue);
    const jobs: DeadJob[] = [];
    for (const deadLetterQueue of deadLetterQueues) {
      const found = await this.boss.findJobs(deadLetterQueue, { queued: true, limit: opts.limit ?? 1000 });
      for (const job of found) {
        if (opts.queue && opts.queue !== deadLetterQueue && job.sourceName !== opts.queue) continue;
        jobs.push({
          id: job.id,
          queue: job.sourceName ?? deadLetterQueue,
          deadLetterQueue,
          originalId: job.sourceId,
          failedAt: job.createdOn,
          attempts: (job.sourceRetryCount ?? 0) + 1,
          error: errorMessage(job.sourceOutput),
        });
      }
    }
    return jobs.sort((a, b) => a.failedAt.getTime() - b.failedAt.getTime());
  }

  /**
   * Sends the dead-lettered jobs of a queue (named by itself or by its
   * dead-letter queue) back to where they failed, as fresh jobs with their
   * retries restored. Returns how many moved.
   */
  async redrive(queue: string, opts: { ids?: string[] } = {}): Promise<number> {
    let moved = 0;
    for (const deadLetterQueue of await this.deadLetterQueues(queue)) {
      const sourceName = queue === deadLetterQueue ? undefined : queue;
      for (;;) {
        const batch = await this.boss.redrive(deadLetterQueue, { sourceName, ids: opts.ids, limit: REDRIVE_BATCH });
        moved += batch;
        if (batch < REDRIVE_BATCH) break;
      }
    }
    return moved;
  }

  /** The dead-letter queues: all of them, or the one a queue name refers to. */
  private async deadLetterQueues(queue?: string): Promise<string[]> {
    const queues = await this.boss.getQueues();
    const deadLetters = new Set(queues.map((q) => q.deadLetter).filter((d): d is string => Boolean(d)));
    if (!queue) return [...deadLetters].sort();
    if (deadLetters.has(queue)) return [queue];
    const source = queues.find((q) => q.name === queue);
    if (!source) throw new AppError('queue_not_found', 404, `No job queue is named ${queue}.`);
    return source.deadLetter ? [source.deadLetter] : [];
  }

  async ping(): Promise<void> {
    await this.boss.getDb().executeSql('select 1 from pgboss.version limit 1');
  }

  /** Stops fetching, lets running jobs finish (up to timeoutMs), then closes. */
  async stop(timeoutMs = 20_000): Promise<void> {
    await this.boss.stop({ graceful: true, timeout: timeoutMs, close: true });
  }
}

function errorMessage(output: object | null): string | null {
  if (!output) return null;
  const message = (output as { message?: unknown }).message;
  return typeof message === 'string' ? message : JSON.stringify(output);
}
