// Root secrets: taken from configuration, or generated once into
// <dataDir>/secrets with mode 0600. A generated secret is fine for a laptop and
// refused in production (see productionProblem in config.ts).
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StartupError } from '../datadir.ts';

export const secretNames = ['masterKey', 'signingKey', 'pseudonymKey'] as const;
export type SecretName = (typeof secretNames)[number];

export interface RootSecrets {
  masterKey: Buffer;
  signingKey: Buffer;
  pseudonymKey: Buffer;
  /** Secrets that came from generated files rather than configuration. */
  generated: SecretName[];
}

export function loadRootSecrets(dataDir: string, configured: Partial<Record<SecretName, string>>): RootSecrets {
  const dir = join(dataDir, 'secrets');
  const generated: SecretName[] = [];
  const read = (name: SecretName): Buffer => {
    const given = configured[name];
    if (given) return Buffer.from(given, 'base64');
    generated.push(name);
    const key = readOrCreateSecretFile(dir, `${name}.key`, () => randomBytes(32).toString('base64'), 'base64');
    if (key.length !== 32) throw new StartupError(`secret file ${join(dir, `${name}.key`)} does not hold a 32-byte base64 key; restore it from a backup`);
    return key;
  };
  return { masterKey: read('masterKey'), signingKey: read('signingKey'), pseudonymKey: read('pseudonymKey'), generated };
}

/** Reads a secret file, creating it (0600, in a 0700 dir) on first use. */
export function readOrCreateSecretFile(dir: string, file: string, create: () => string, encoding: 'base64' | 'utf8' = 'utf8'): Buffer {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const path = join(dir, file);
  if (!existsSync(path)) writeOnce(path, create());
  // A copy restored with loose permissions is tightened rather than left readable.
  else if (statSync(path).mode & 0o077) chmodSync(path, 0o600);
  const text = readFileSync(path, 'utf8').trim();
  if (!text) throw new StartupError(`secret file ${path} is empty; restore it from a backup`);
  return encoding === 'base64' ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
}

/**
 * Writes a new secret whole and durably, or not at all: a crash never leaves
 * a half-written key, and when two processes start together (haven serve and
 * haven setup) both end up with the one that was written first.
 */
function writeOnce(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path); // fails if the file exists: never replaces a key already in use
    const dirFd = openSync(dirname(path), 'r');
    try { fsyncSync(dirFd); } finally { closeSync(dirFd); }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
}
