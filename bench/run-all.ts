// npm run bench: runs every bench/*.bench.ts in its own process, one after
// another (never two at once: they would measure each other), shows their
// output as it comes, and writes BENCHMARKS.md with the machine they ran on.
// Exits 1 when a script did not complete; a missed target is a finding, not
// a failure.
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './lib/haven.ts';
import { describeMachine } from './lib/machine.ts';
import { type BenchOutcome, renderBenchmarks } from './lib/report.ts';
import { parseResult, RESULT_PREFIX } from './lib/result.ts';

async function runScript(script: string): Promise<BenchOutcome> {
  process.stdout.write(`\n### ${script}\n`);
  const child = spawn(process.execPath, [script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let both = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d; both += d; process.stdout.write(d); });
  child.stderr.on('data', (d: Buffer) => { both += d; process.stderr.write(d); });
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  const tail = both.trimEnd().split('\n').slice(-15).join('\n');
  if (code !== 0) return { script, failure: `exit code ${code}\n${tail}` };
  try {
    const result = parseResult(stdout);
    return result ? { script, result } : { script, failure: `no ${RESULT_PREFIX.trim()} line\n${tail}` };
  } catch (err) {
    return { script, failure: `unreadable result: ${(err as Error).message}` };
  }
}

const machine = describeMachine();
const scripts = readdirSync(join(repoRoot, 'bench')).filter((f) => f.endsWith('.bench.ts')).sort().map((f) => `bench/${f}`);
const outcomes: BenchOutcome[] = [];
for (const script of scripts) outcomes.push(await runScript(script));

writeFileSync(join(repoRoot, 'BENCHMARKS.md'), renderBenchmarks(machine, outcomes));
const failed = outcomes.filter((o) => !o.result);
process.stdout.write(`\nwrote BENCHMARKS.md (${outcomes.length - failed.length} of ${outcomes.length} benchmarks completed)\n`);
if (failed.length) process.exitCode = 1;
