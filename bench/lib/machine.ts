// The machine a benchmark run happened on: figures mean nothing without it.
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';

export interface Machine {
  cpu: string;
  cores: number;
  memory: string;
  os: string;
  node: string;
  date: string;
  /** 1-minute load average when the run began: a busy machine reads slower. */
  loadAtStart: string;
}

export function describeMachine(now = new Date()): Machine {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    os: `${distribution()} (Linux ${release()})`,
    node: process.version,
    date: now.toISOString().replace(/\.\d+Z$/, 'Z'),
    loadAtStart: loadavg()[0]!.toFixed(2),
  };
}

function distribution(): string {
  if (!existsSync('/etc/os-release')) return process.platform;
  const match = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
  return match?.[1] ?? process.platform;
}
