// The platform adapters a module may use, bundled for passing in.
import type { Config } from '../config.ts';
import type { Keyring } from './crypto/keyring.ts';
import type { Pseudonymize } from './crypto/pseudonym.ts';
import type { Database } from './db/database.ts';
import type { JobQueue } from './jobs.ts';
import type { Logger } from './log.ts';
import type { Mailer } from './mail.ts';
import type { Storage } from './storage/regions.ts';

export interface Clock { now(): Date }
export const systemClock: Clock = { now: () => new Date() };

export interface Platform {
  config: Config;
  log: Logger;
  db: Database;
  jobs: JobQueue;
  storage: Storage;
  keyring: Keyring;
  mailer: Mailer;
  pseudonymize: Pseudonymize;
  signingKey: Buffer;
  clock: Clock;
}
