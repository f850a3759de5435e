// Runs a haven command in this process: the same command table, argument
// parsing and exit codes as the binary (src/cli/run.ts), with the
// environment runHaven would give the child and its output captured. For
// tests of what a command does; tests of the process itself (signals, start,
// ports, the binary's entry) spawn it with runHaven or spawnHaven.
import { runCli } from '../../src/cli/run.ts';
import { type CliResult, cleanEnv } from './process.ts';

export async function runHavenCommand(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const status = await runCli(args, { env: cleanEnv(env), out: (line) => { stdout += `${line}\n`; }, err: (text) => { stderr += text; } });
  return { status, stdout, stderr };
}
