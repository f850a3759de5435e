// Supervised ffmpeg/ffprobe child processes. Each runs in a process group of
// its own, so an abort or a timeout kills it and anything it started; under
// setpriv it also dies with its parent, so a worker killed with SIGKILL leaves
// no encoder running on. stderr is kept as a short tail for error reports
// (the caller decides whether it may be shown: it can name files and tags).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';

export type ToolFailure = 'tool_failed' | 'tool_timeout' | 'tool_aborted' | 'tool_missing' | 'tool_output_too_large';

export class ToolError extends Error {
  readonly code: ToolFailure;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The last lines ffmpeg wrote to stderr: for logs, not for end users. */
  readonly stderrTail: string;

  constructor(code: ToolFailure, message: string, details: { exitCode?: number | null; signal?: NodeJS.Signals | null; stderrTail?: string } = {}) {
    const tail = details.stderrTail?.trim();
    super(tail ? `${message}: ${tail.split('\n').slice(-3).join(' | ')}` : message);
    this.name = 'ToolError';
    this.code = code;
    this.exitCode = details.exitCode ?? null;
    this.signal = details.signal ?? null;
    this.stderrTail = details.stderrTail ?? '';
  }
}

/** One `-progress` report: ffmpeg writes key=value lines, each block ending in progress=continue|end. */
export interface ToolProgress {
  /** Output time reached, in milliseconds. */
  outTimeMs: number;
  frame?: number;
  /** Encoding speed as a multiple of real time. */
  speed?: number;
  done: boolean;
}

export interface RunOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Parse stdout as `-progress pipe:1` reports instead of collecting it. */
  onProgress?: (progress: ToolProgress) => void;
  /** Called with the child's pid once it runs (logs, tests). */
  onStart?: (pid: number) => void;
  /** Bytes of stdout kept (ffprobe JSON); more fails the run. Default 16 MiB. */
  maxStdoutBytes?: number;
  /** Start the tool at this nice value (0–19): it then takes only the CPU that runs at normal priority leave over. */
  niceness?: number;
}

export interface RunResult { stdout: string; stderrTail: string }

const STDERR_TAIL_BYTES = 8192;


let pdeathsig: boolean | undefined;
/** util-linux setpriv makes the kernel kill the tool when its parent dies (PR_SET_PDEATHSIG). */
function canUsePdeathsig(): boolean {
  pdeathsig ??= process.platform === 'linux' && spawnSync('setpriv', ['--version'], { stdio: 'ignore' }).status === 0;
  return pdeathsig;
}

export function runTool(command: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  if (opts.signal?.aborted) return Promise.reject(new ToolError('tool_aborted', `${command} was not started: the work was cancelled`));
  // nice(1) execs the tool, so it starts (and every thread it makes inherits) the lower priority.
  const niced = opts.niceness ? ['nice', '-n', String(Math.min(19, Math.max(0, Math.round(opts.niceness)))), command, ...args] : [command, ...args];
  const [file, argv] = canUsePdeathsig() ? ['setpriv', ['--pdeathsig', 'KILL', '--', ...niced]] : [niced[0]!, niced.slice(1)];
  const child = spawn(file, argv, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid) opts.onStart?.(child.pid);
  return supervise(command, child, opts);
}

function supervise(command: string, child: ChildProcess, opts: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    let stdout = '';
    let stdoutBytes = 0;
    let failure: ToolError | undefined;
    const progress = opts.onProgress ? progressParser(opts.onProgress) : undefined;
    const maxStdout = opts.maxStdoutBytes ?? 16 * 1024 * 1024;

    const killGroup = (reason: ToolError) => {
      failure ??= reason;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL'); // the group is gone already, or never formed
      }
    };
    const onAbort = () => killGroup(new ToolError('tool_aborted', `${command} was stopped: the work was cancelled`));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = opts.timeoutMs ? setTimeout(() => killGroup(new ToolError('tool_timeout', `${command} did not finish within ${Math.round(opts.timeoutMs! / 1000)} s`)), opts.timeoutMs) : undefined;

    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (text: string) => {
      if (progress) return progress(text);
      stdoutBytes += Buffer.byteLength(text);
      if (stdoutBytes > maxStdout) return killGroup(new ToolError('tool_output_too_large', `${command} wrote more than ${maxStdout} bytes of output`));
      stdout += text;
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      stderr = (stderr + text).slice(-STDERR_TAIL_BYTES);
    });

    child.once('error', (err: NodeJS.ErrnoException) => {
      failure ??= err.code === 'ENOENT' ? new ToolError('tool_missing', `${command} is not installed (install the ffmpeg package)`) : new ToolError('tool_failed', `${command} could not be started: ${err.message}`);
    });
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (failure) return reject(withTail(failure, stderr));
      if (exitCode === 0) return resolve({ stdout, stderrTail: stderr });
      reject(new ToolError('tool_failed', `${command} exited with ${signal ? `signal ${signal}` : `code ${exitCode}`}`, { exitCode, signal, stderrTail: stderr }));
    });
  });
}

/**
 * Sets the nice value of every thread of a running tool (Linux keeps one per
 * thread). Raising priority back needs CAP_SYS_NICE or an RLIMIT_NICE that
 * allows it; without them the tool keeps its lower priority and false is
 * returned — it still gets every cycle nothing else wants.
 */
export function reniceTool(pid: number, niceness: number): boolean {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    tasks = [String(pid)];
  }
  let ok = true;
  for (const tid of tasks) {
    try {
      setPriority(Number(tid), niceness);
    } catch {
      ok = false; // not permitted, or the thread ended meanwhile
    }
  }
  return ok;
}

function withTail(err: ToolError, stderr: string): ToolError {
  return err.stderrTail || !stderr ? err : new ToolError(err.code, err.message, { exitCode: err.exitCode, signal: err.signal, stderrTail: stderr });
}

/** Turns a stream of `-progress` text into one report per block. */
export function progressParser(onProgress: (p: ToolProgress) => void): (text: string) => void {
  let partial = '';
  let block: Record<string, string> = {};
  return (text) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const eq = line.indexOf('=');
      if (eq < 0) continue;
      const key = line.slice(0, eq).trim();
      block[key] = line.slice(eq + 1).trim();
      if (key !== 'progress') continue;
      // out_time_ms is microseconds too (a historical misnomer); prefer the honest name.
      const micros = Number(block.out_time_us ?? block.out_time_ms);
      const speed = Number.parseFloat(block.speed ?? '');
      onProgress({
        outTimeMs: Number.isFinite(micros) && micros > 0 ? micros / 1000 : 0,
        frame: block.frame === undefined ? undefined : Number(block.frame),
        speed: Number.isFinite(speed) ? speed : undefined,
        done: block.progress === 'end',
      });
      block = {};
    }
  };
}
