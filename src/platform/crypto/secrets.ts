// Root secrets: taken from configuration, or generated once into
// <dataDir>/secrets with mode 0600. A generated secret is fine for a laptop and
// refused in production (see productionProblem in config.ts).
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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
    return readOrCreateSecretFile(dir, `${name}.key`, () => randomBytes(32).toString('base64'), 'base64');
  };
  return { masterKey: read('masterKey'), signingKey: read('signingKey'), pseudonymKey: read('pseudonymKey'), generated };
}

/** Reads a secret file, creating it (0600, in a 0700 dir) on first use. */
export function readOrCreateSecretFile(dir: string, file: string, create: () => string, encoding: 'base64' | 'utf8' = 'utf8'): Buffer {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const path = join(dir, file);
  if (!existsSync(path)) {
    writeFileSync(path, create(), { mode: 0o600, flag: 'wx' });
  }
  const text = readFileSync(path, 'utf8').trim();
  return encoding === 'base64' ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
}
