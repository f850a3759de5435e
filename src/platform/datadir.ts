// The data dir holds the embedded database, local storage and generated
// secrets. One Haven process owns it at a time (haven.pid), which also tells a
// clean start from one after a crash.
import { accessSync, constants, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

interface Holder { pid: number; startTime?: string }

/**
 * Claims the data dir for this process; refuses if another live Haven holds
 * it. haven.pid holds the pid and, on Linux, the process's start time: a pid
 * left by a killed Haven may since belong to an unrelated process.
 */
export function lockDataDir(dir: string): () => void {
  const file = join(dir, 'haven.pid');
  const claim = `${process.pid}\n${startTimeOf(process.pid) ?? ''}\n`;
  for (let attempt = 0; ; attempt++) {
    try {
      // Exclusive create: of two Havens starting at once, exactly one wins.
      writeFileSync(file, claim, { mode: 0o644, flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readHolder(file);
      if (holder && isRunningHaven(holder)) {
        throw new StartupError(`data dir ${dir} is in use by another Haven process (pid ${holder.pid})`);
      }
      if (attempt >= 3) throw new StartupError(`data dir ${dir} is being claimed by another Haven process; try again`);
      rmSync(file, { force: true }); // left behind by a Haven that was killed
    }
  }
  return () => {
    if (readHolder(file)?.pid === process.pid) rmSync(file, { force: true });
  };
}

function readHolder(file: string): Holder | undefined {
  try {
    const [pid, startTime] = readFileSync(file, 'utf8').split('\n').map((s) => s.trim());
    return { pid: Number(pid), startTime: startTime || undefined };
  } catch {
    return undefined; // removed meanwhile
  }
}

function isRunningHaven({ pid, startTime }: Holder): boolean {
  // This process's own file: a Haven in this process that was not closed, or a reused pid.
  if (!(pid > 0) || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false; // EPERM: alive, another user's
  }
  const now = startTimeOf(pid);
  if (startTime && now) return now === startTime;
  // No start time to compare: anything that is not Node is not Haven.
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.includes('haven') || cmd.includes('node');
  } catch {
    return true;
  }
}

/** Clock ticks since boot at which pid started (field 22 of /proc/<pid>/stat). */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself hold spaces and parentheses.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
