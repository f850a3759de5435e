import type { Language, Messages } from '../../types.ts';
import { de } from './de.ts';
import { en } from './en.ts';
import { fi } from './fi.ts';
import { sv } from './sv.ts';

export const accountMessages: Record<Language, Messages> = { en, sv, fi, de };
