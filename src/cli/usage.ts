export class UsageError extends Error {}

export function required(values: Record<string, unknown>, ...names: string[]): void {
  for (const n of names) {
    if (values[n] === undefined || values[n] === '') throw new UsageError(`missing required option --${n}`);
  }
}
