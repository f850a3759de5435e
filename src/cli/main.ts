// The haven command, started through bin/haven.js. Exit codes: 0 ok, 1
// failure at run time, 2 bad arguments or configuration (always one line on
// stderr).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { runCommand, commands } from './commands.ts';
import { UsageError } from './usage.ts';
import { ConfigError } from '../config.ts';
import { StartupError } from '../platform/datadir.ts';
import { AppError } from '../platform/errors.ts';
import { ZodError } from 'zod';

const [name, ...rest] = process.argv.slice(2);

function printHelp(): void {
  const lines = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(16)} ${c.summary}`);
  process.stdout.write(`Usage: haven <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun "haven <command> --help" for a command's options.\n`);
}

async function main(): Promise<number> {
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    printHelp();
    return 0;
  }
  if (name === '--version' || name === '-v') {
    const { VERSION } = await import('../main.ts');
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const command = commands[name];
  if (!command) throw new UsageError(`unknown command "${name}"; run "haven --help" for the list`);
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } } as ParseArgsConfig['options'], allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${name}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (parsed.values.help) {
    process.stdout.write(command.help + '\n');
    return 0;
  }
  return runCommand(name, parsed.values as Record<string, unknown>, parsed.positionals);
}

main().then(
  (code) => { process.exitCode = code; },
  (err) => {
    if (err instanceof ZodError) {
      const issue = err.issues[0];
      process.stderr.write(`haven: ${issue ? `${issue.path.join('.') || 'value'} ${issue.message}` : 'invalid input'}\n`);
      process.exitCode = 2;
    } else if (err instanceof UsageError || err instanceof ConfigError || err instanceof StartupError || (err instanceof AppError && err.status < 500)) {
      process.stderr.write(`haven: ${err.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`haven: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
