// The one result format every bench script emits and run-all.ts collects.
// A script prints a human-readable block, then one line `BENCH_RESULT {json}`
// last, so the collector never has to understand a script's own output.
import { z } from 'zod';

export const RESULT_PREFIX = 'BENCH_RESULT ';

const metricSchema = z.object({
  label: z.string().min(1),
  value: z.number(),
  unit: z.string(),
});

const targetSchema = z.object({
  label: z.string().min(1),
  /** What the issue asks for, as a reader would write it: "< 3 s", "≥ 0.8". */
  target: z.string().min(1),
  /** The measured figure in the same terms. */
  actual: z.string().min(1),
  met: z.boolean(),
  /** Measured ÷ reference (the target, or the baseline it is compared with). */
  ratio: z.number().optional(),
});

export const benchResultSchema = z.object({
  name: z.string().min(1),
  issue: z.string().min(1),
  metrics: z.array(metricSchema),
  targets: z.array(targetSchema),
});

export type Metric = z.infer<typeof metricSchema>;
export type Target = z.infer<typeof targetSchema>;
export type BenchResult = z.infer<typeof benchResultSchema>;

/** Prints the human-readable block, then the machine-readable line last. */
export function emitResult(result: BenchResult): void {
  const width = Math.max(...result.metrics.map((m) => m.label.length), 10);
  const lines = [``, `== ${result.name} (${result.issue})`];
  for (const m of result.metrics) lines.push(`  ${m.label.padEnd(width)}  ${formatNumber(m.value)} ${m.unit}`.trimEnd());
  for (const t of result.targets) {
    const ratio = t.ratio === undefined ? '' : `, ratio ${t.ratio.toFixed(2)}`;
    lines.push(`  ${t.met ? 'MET   ' : 'MISSED'} ${t.label}: ${t.actual} (target ${t.target}${ratio})`);
  }
  process.stdout.write(`${lines.join('\n')}\n${RESULT_PREFIX}${JSON.stringify(benchResultSchema.parse(result))}\n`);
}

/** The last result line in a script's output, parsed; undefined when there is none. */
export function parseResult(output: string): BenchResult | undefined {
  const line = output.split('\n').reverse().find((l) => l.startsWith(RESULT_PREFIX));
  return line === undefined ? undefined : benchResultSchema.parse(JSON.parse(line.slice(RESULT_PREFIX.length)));
}

export function median(values: number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Few enough digits to read, enough to compare. */
export function formatNumber(value: number): string {
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  return value.toFixed(abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3);
}
