// Shared by CLI commands that work against a Haven's database without
// serving: start it (no HTTP, no workers, beside a running server if there is
// one), run, always close. Haven itself (src/main.ts and every module behind
// it) is imported only when a command runs, so `--help` and a usage error
// answer without loading it.
import { type Config, loadConfig } from '../config.ts';
import type { Haven } from '../main.ts';

export type Values = Record<string, unknown>;

/**
 * What a command reads and writes besides Haven: its environment and its
 * output streams. The haven process passes its own (processIo); a test can
 * run a command in its own process with another.
 */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  /** One line of the command's result, on stdout. */
  out(line: string): void;
  /** Text for the operator's eyes, on stderr. */
  err(text: string): void;
}

export const processIo: CliIo = {
  env: process.env,
  out: (line) => process.stdout.write(line + '\n'),
  err: (text) => process.stderr.write(text),
};

/** The shape of an entry in the CLI's command table (src/cli/commands.ts). */
export interface CliCommand {
  summary: string;
  help: string;
  options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;
  run(values: Values, positionals: string[], io: CliIo): Promise<number>;
}

/** Configuration from the environment, with the options a command takes on its command line. */
export function config(io: CliIo, values: Values = {}): Config {
  return loadConfig(io.env, { port: values.port, host: values.host, workerRegion: values.region });
}

/** CLI commands log warnings only, to stderr, so their stdout stays clean. */
export function quietLog(io: CliIo) {
  return { write: (line: string) => { if (/"level":(4|5|6)\d/.test(line)) io.err(line); } };
}

/** Haven's entry module, loaded on first use. */
export const loadHaven = () => import('../main.ts');

/** Runs fn against a started Haven (no HTTP, no workers) and always closes it. */
export async function withHaven<T>(io: CliIo, fn: (haven: Haven) => Promise<T>): Promise<T> {
  const { startHaven } = await loadHaven();
  const haven = await startHaven(config(io), { workers: false, http: false, attach: true, logDestination: quietLog(io) });
  try {
    return await fn(haven);
  } finally {
    await haven.close();
  }
}
