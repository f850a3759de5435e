// The haven command, started through bin/haven.js: runs src/cli/run.ts on
// this process's arguments, environment and streams.
import { runCli } from './run.ts';
import { processIo } from './with-haven.ts';

process.exitCode = await runCli(process.argv.slice(2), processIo);
