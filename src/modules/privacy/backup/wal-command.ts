// Run by PostgreSQL, not by Haven (archive_command / restore_command), as the
// database's system user:
//   wal-command.ts archive <path %p> <name %f> <settings.json>
//   wal-command.ts restore <name %f> <path %p> <settings.json>
// archive encrypts one finished WAL segment (HVN1) into the backup location;
// restore decrypts one back. A non-zero exit makes PostgreSQL retry the
// archive (so no segment is lost) or, on restore, means "not archived".
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { decryptBuffer, encryptBuffer } from '../../../platform/crypto/stream.ts';
import { ObjectNotFoundError } from '../../../platform/storage/types.ts';
import { WAL_NAME, walSettingsSchema, walStoreOf } from './wal.ts';

async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of stream) parts.push(p);
  return Buffer.concat(parts);
}

async function main(argv: string[]): Promise<number> {
  const [mode, a, b, settingsPath] = argv;
  if ((mode !== 'archive' && mode !== 'restore') || !a || !b || !settingsPath) {
    process.stderr.write('usage: wal-command.ts archive %p %f SETTINGS | restore %f %p SETTINGS\n');
    return 2;
  }
  const settings = walSettingsSchema.parse(JSON.parse(readFileSync(settingsPath, 'utf8')));
  const key = Buffer.from(settings.key, 'base64');
  const { store, prefix } = walStoreOf(settings);
  const name = mode === 'archive' ? b : a;
  if (!WAL_NAME.test(name)) { process.stderr.write(`haven wal: refusing unexpected file name ${name}\n`); return 2; }
  const objectKey = `${prefix}${name}.hvn`;

  if (mode === 'archive') {
    const plain = readFileSync(a);
    if (await store.head(objectKey)) {
      // Archived before (a retry after a crash): fine if identical, never overwritten otherwise.
      const existing = decryptBuffer(key, await readAll(await store.get(objectKey) as AsyncIterable<Buffer>));
      if (existing.equals(plain)) return 0;
      process.stderr.write(`haven wal: ${name} is already archived with other contents; not overwriting it\n`);
      return 1;
    }
    await store.put(objectKey, encryptBuffer(key, plain, { chunkSize: 1024 * 1024 }));
    return 0;
  }

  let sealed: Buffer;
  try {
    sealed = await readAll(await store.get(objectKey) as AsyncIterable<Buffer>);
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return 1; // not archived: the normal end of recovery
    throw err;
  }
  const tmp = `${b}.haven-tmp`;
  writeFileSync(tmp, decryptBuffer(key, sealed), { mode: 0o600 });
  renameSync(tmp, b);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => { process.stderr.write(`haven wal: ${(err as Error).message}\n`); process.exitCode = 1; },
);
