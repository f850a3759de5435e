// Values of a tenant's custom fields on a video, checked against their
// definitions: a number must be a finite number, a date a real calendar date,
// a choice one of the defined choices, text at most 2,000 characters. A
// wrong type is a 400 that names the field and what it expects.
import { AppError } from '../../platform/errors.ts';

export const customFieldTypes = ['text', 'number', 'date', 'choice'] as const;
export type CustomFieldType = (typeof customFieldTypes)[number];
export type CustomFieldValue = string | number;
export type CustomFieldValues = Record<string, CustomFieldValue>;

export interface CustomFieldDefinition {
  id: string;
  key: string;
  label: string;
  type: CustomFieldType;
  choices: string[];
  position: number;
  createdAt: Date;
  updatedAt: Date;
}

export const MAX_TEXT_VALUE_LENGTH = 2000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

const invalidValue = (def: CustomFieldDefinition, expected: string) =>
  new AppError('invalid_custom_field_value', 400, `Custom field "${def.key}" (${def.type}) expects ${expected}.`, { field: def.key, type: def.type });

export function isCalendarDate(value: string): boolean {
  const m = ISO_DATE.exec(value);
  if (!m) return false;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return date.toISOString().slice(0, 10) === value;
}

/** The value as stored, or a 400 when it does not fit the field's type. */
export function checkValue(def: CustomFieldDefinition, value: unknown): CustomFieldValue {
  switch (def.type) {
    case 'text':
      if (typeof value !== 'string') throw invalidValue(def, 'a string');
      if (value.length > MAX_TEXT_VALUE_LENGTH) throw invalidValue(def, `at most ${MAX_TEXT_VALUE_LENGTH} characters`);
      return value;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidValue(def, 'a finite number (JSON number, not a string)');
      return value;
    case 'date':
      if (typeof value !== 'string' || !isCalendarDate(value)) throw invalidValue(def, 'a calendar date written YYYY-MM-DD');
      return value;
    case 'choice':
      if (typeof value !== 'string' || !def.choices.includes(value)) throw invalidValue(def, `one of: ${def.choices.join(', ')}`);
      return value;
  }
}

/**
 * Applies a change to a video's values: a key set to null is removed, any
 * other key must name a defined field and carry a value of its type.
 */
export function applyValueChange(current: CustomFieldValues, change: Record<string, unknown>, definitions: CustomFieldDefinition[]): CustomFieldValues {
  const byKey = new Map(definitions.map((d) => [d.key, d]));
  const next: CustomFieldValues = { ...current };
  for (const [key, value] of Object.entries(change)) {
    const def = byKey.get(key);
    if (!def) {
      throw new AppError('unknown_custom_field', 400, `This organization has no custom field "${key.slice(0, 64)}"; an admin defines fields under /api/v1/custom-fields.`, { field: key.slice(0, 64) });
    }
    if (value === null) delete next[key];
    else next[key] = checkValue(def, value);
  }
  return next;
}
