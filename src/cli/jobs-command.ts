// haven jobs: what the job queue holds, which jobs failed past their retries,
// and sending those back once the cause is fixed.
import { scrubText } from '../platform/crypto/pseudonym.ts';
import type { DeadJob } from '../platform/jobs.ts';
import { required, UsageError } from './usage.ts';
import { type CliCommand, withHaven } from './with-haven.ts';

/** One line, whatever the error held: operators grep this output. */
const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

function deadJobLine(job: DeadJob, scrub: (text: string) => string): string {
  const error = job.error === null ? '-' : oneLine(scrub(job.error));
  return `${job.id}  ${job.queue}  ${job.failedAt.toISOString()}  ${job.attempts} attempt${job.attempts === 1 ? '' : 's'}  ${error}`;
}

export const jobsCommand: CliCommand = {
  summary: 'jobs status | dead [--queue Q] | redrive --queue Q',
  help: [
    'Usage: haven jobs status',
    '       haven jobs dead [--queue Q]',
    '       haven jobs redrive --queue Q',
    '',
    '  status         jobs per queue and state',
    '  dead           jobs that failed past their retries: id, queue, failed at, attempts, last error',
    '  redrive        send the dead-lettered jobs of queue Q back to it, with fresh retries',
    '  --queue Q      a queue (e.g. platform.sweep-rate-limits) or its dead-letter queue (….dead)',
  ].join('\n'),
  options: { queue: { type: 'string' } },
  async run(values, [action], io) {
    const queue = values.queue as string | undefined;
    if (action === 'status') {
      return withHaven(io, async ({ platform }) => {
        const counts = await platform.jobs.counts();
        if (!counts.length) io.out('no jobs');
        const width = Math.max(5, ...counts.map((c) => c.queue.length));
        for (const c of counts) io.out(`${c.queue.padEnd(width)}  ${c.state.padEnd(9)}  ${String(c.count).padStart(6)}`);
        return 0;
      });
    }
    if (action === 'dead') {
      return withHaven(io, async ({ platform }) => {
        const jobs = await platform.jobs.deadJobs({ queue });
        if (!jobs.length) io.out(queue ? `no dead-lettered jobs for ${queue}` : 'no dead-lettered jobs');
        for (const job of jobs) io.out(deadJobLine(job, (text) => scrubText(text, platform.pseudonymize)));
        return 0;
      });
    }
    if (action === 'redrive') {
      required(values, 'queue');
      return withHaven(io, async ({ platform }) => {
        const moved = await platform.jobs.redrive(queue!);
        io.out(moved ? `sent ${moved} dead-lettered job${moved === 1 ? '' : 's'} of ${queue} back to be run again` : `no dead-lettered jobs for ${queue}`);
        return 0;
      });
    }
    throw new UsageError('jobs: expected "status", "dead" or "redrive"');
  },
};
