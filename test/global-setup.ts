// Starts the PostgreSQL server the suite uses, unless DATABASE_URL names one:
// an embedded server in a temp dir (the default, as for users), or the given
// server (CI's second pass). Tests create a fresh database each.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../src/platform/db/embedded.ts';
import { SERVER_INFO_ENV, serverInfoFileFor } from './helpers/server-info.ts';

let embedded: EmbeddedPostgres | undefined;
let dir: string | undefined;

let serverInfoFile: string | undefined;

export async function globalSetup(): Promise<void> {
  // One file per test run, so runs in parallel (two engineers, two CI passes) never share one.
  serverInfoFile = serverInfoFileFor(process.pid);
  process.env[SERVER_INFO_ENV] = serverInfoFile;
  mkdirSync(join(serverInfoFile, '..'), { recursive: true });
  let url = process.env.DATABASE_URL;
  if (!url) {
    dir = mkdtempSync(join(tmpdir(), 'haven-test-pg-'));
    const port = 56000 + Math.floor(Math.random() * 3000);
    embedded = await startEmbeddedPostgres(dir, port, () => undefined);
    url = embedded.url;
  }
  writeFileSync(serverInfoFile, JSON.stringify({ url, embedded: Boolean(embedded) }));
}

export async function globalTeardown(): Promise<void> {
  await embedded?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (serverInfoFile) rmSync(serverInfoFile, { force: true });
}
