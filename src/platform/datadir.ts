// The data dir holds the embedded database, local storage and generated
// secrets. One Haven process owns it at a time (haven.pid), which also tells a
// clean start from one after a crash.
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class StartupError extends Error {}

export function prepareDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o711 });
    accessSync(dir, constants.W_OK | constants.X_OK);
    const probe = join(dir, `.write-probe-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (err) {
    throw new StartupError(`data dir ${dir} is not writable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); set HAVEN_DATA_DIR to a writable directory`);
  }
}

/** Claims the data dir for this process; refuses if another live Haven holds it. */
export function lockDataDir(dir: string): () => void {
  const file = join(dir, 'haven.pid');
  if (existsSync(file)) {
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (pid > 0 && pid !== process.pid && isAlive(pid)) {
      throw new StartupError(`data dir ${dir} is in use by another Haven process (pid ${pid})`);
    }
  }
  writeFileSync(file, String(process.pid), { mode: 0o644 });
  return () => {
    try {
      if (readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file);
    } catch { /* already gone */ }
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.includes('haven') || cmd.includes('node');
  } catch {
    return false;
  }
}
