// What an audit entry may say about a value. Entries outlive erasure requests
// and are covered by the hash chain, so they must never hold personal data in
// the clear: values of fields the data map marks personal, and free text that
// could contain anything, are replaced by a keyed pseudonym ("ref"). Equal
// values still get equal refs, so an investigator can see that a field
// changed, or changed back, without seeing it.
import type { Pseudonymize } from '../../platform/crypto/pseudonym.ts';

/** Field names the data map marks personal (e.g. 'email', 'displayName'). */
export type PersonalFields = ReadonlySet<string> | readonly string[];

export interface MaskedValue { masked: true; ref: string }

export type SafeValue = string | number | boolean | null | SafeValue[] | MaskedValue | { [key: string]: SafeValue };

export interface FieldChange { from: SafeValue; to: SafeValue }
export type AuditDiff = Record<string, FieldChange>;

// Identifier-like strings (enums, ids, dates, slugs, codes) are kept; anything
// with whitespace, '@', or longer than 200 characters counts as free text.
const TOKEN = /^[\p{L}\p{N}_.:/+=#-]{0,200}$/u;
const KEY = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const MAX_ARRAY = 100;
const MAX_DEPTH = 3;
export const MAX_DETAILS_BYTES = 8192;

const isPersonal = (personal: PersonalFields | undefined, key: string) =>
  personal !== undefined && ('has' in personal ? personal.has(key) : personal.includes(key));

/** JSON with sorted keys: the same value always gives the same ref. */
export function stableJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(typeof value === 'bigint' ? value.toString() : value) ?? 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (ArrayBuffer.isView(value)) return JSON.stringify(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'));
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
}

export function maskOf(value: unknown, pseudonymize: Pseudonymize): MaskedValue {
  return { masked: true, ref: pseudonymize(`audit-value:${stableJson(value)}`) };
}

function scalar(value: unknown): SafeValue | undefined {
  if (value === undefined || value === null) return null;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (typeof value === 'string' && TOKEN.test(value)) return value;
  return undefined;
}

/** A value as a diff may show it: identifier-like scalars and short lists of them, else a mask. */
export function safeValue(value: unknown, personal: boolean, pseudonymize: Pseudonymize): SafeValue {
  if (value === undefined || value === null) return null;
  if (personal) return maskOf(value, pseudonymize);
  const s = scalar(value);
  if (s !== undefined) return s;
  if (Array.isArray(value) && value.length <= MAX_ARRAY) {
    const items = value.map(scalar);
    if (items.every((i) => i !== undefined)) return items as SafeValue[];
  }
  return maskOf(value, pseudonymize);
}

/**
 * The minimal before/after diff: only fields whose value changed, personal
 * ones masked. Null when nothing changed.
 */
export function auditDiff(
  before: Record<string, unknown> | null | undefined,
  after: Record<string, unknown> | null | undefined,
  personal: PersonalFields | undefined,
  pseudonymize: Pseudonymize,
): AuditDiff | null {
  const keys = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])].sort();
  const diff: AuditDiff = {};
  for (const key of keys) {
    if (!KEY.test(key)) throw new TypeError(`audit diff field "${key}" is not an identifier`);
    const from = before?.[key];
    const to = after?.[key];
    if (stableJson(from) === stableJson(to)) continue;
    const p = isPersonal(personal, key);
    diff[key] = { from: safeValue(from, p, pseudonymize), to: safeValue(to, p, pseudonymize) };
  }
  return Object.keys(diff).length ? diff : null;
}

/**
 * Structured details about an event (counts, enums, ids of things). Nested
 * up to three levels; personal keys and free text are masked like diff values.
 */
export function maskDetails(details: Record<string, unknown> | undefined, personal: PersonalFields | undefined, pseudonymize: Pseudonymize): Record<string, SafeValue> | null {
  if (!details || Object.keys(details).length === 0) return null;
  const walk = (value: unknown, depth: number): SafeValue => {
    const s = scalar(value);
    if (s !== undefined) return s;
    if (Array.isArray(value) && value.length <= MAX_ARRAY && depth < MAX_DEPTH) return value.map((v) => walk(v, depth + 1));
    if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype && depth < MAX_DEPTH) return object(value as Record<string, unknown>, depth + 1);
    return maskOf(value, pseudonymize);
  };
  const object = (obj: Record<string, unknown>, depth: number): Record<string, SafeValue> => {
    const out: Record<string, SafeValue> = {};
    for (const [key, value] of Object.entries(obj)) {
      if (value === undefined) continue;
      if (!KEY.test(key)) throw new TypeError(`audit detail key "${key}" is not an identifier`);
      out[key] = isPersonal(personal, key) ? safeValue(value, true, pseudonymize) : walk(value, depth);
    }
    return out;
  };
  const masked = object(details, 0);
  if (Buffer.byteLength(JSON.stringify(masked)) > MAX_DETAILS_BYTES) throw new TypeError(`audit details exceed ${MAX_DETAILS_BYTES} bytes`);
  return masked;
}
