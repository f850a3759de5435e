// The haven command as a function: parses the command line, runs the command
// against the given environment and streams, and turns errors into the exit
// codes operators rely on: 0 ok, 1 failure at run time, 2 bad arguments or
// configuration (always one line on stderr).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ZodError } from 'zod';
import { ConfigError } from '../config.ts';
import { StartupError } from '../platform/datadir.ts';
import { AppError } from '../platform/errors.ts';
import { commands } from './commands.ts';
import { UsageError } from './usage.ts';
import type { CliIo } from './with-haven.ts';

function help(): string {
  const lines = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(16)} ${c.summary}`);
  return `Usage: haven <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun "haven <command> --help" for a command's options.`;
}

async function dispatch([name, ...rest]: string[], io: CliIo): Promise<number> {
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(help());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    const { VERSION } = await import('../main.ts');
    io.out(VERSION);
    return 0;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) throw new UsageError(`unknown command "${name}"; run "haven --help" for the list`);
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } } as ParseArgsConfig['options'], allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${name}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (parsed.values.help) {
    io.out(command.help);
    return 0;
  }
  return command.run(parsed.values, parsed.positionals, io);
}

/** Runs `haven <argv…>`; resolves to the exit code, never rejects. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (err) {
    if (err instanceof ZodError) {
      const issue = err.issues[0];
      io.err(`haven: ${issue ? `${issue.path.join('.') || 'value'} ${issue.message}` : 'invalid input'}\n`);
      return 2;
    }
    const usage = err instanceof UsageError || err instanceof ConfigError || err instanceof StartupError || (err instanceof AppError && err.status < 500);
    io.err(`haven: ${err instanceof Error ? err.message : String(err)}\n`);
    return usage ? 2 : 1;
  }
}
