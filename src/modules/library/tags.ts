// Tags as editors type them and as the library keeps them: trimmed, inner
// whitespace collapsed, lowercased (so "Onboarding" and "onboarding " are one
// tag), at most 64 characters each and 50 per video. The database checks the
// same limits (haven_tags_valid in migration 0009).
import { z } from 'zod';
import { AppError } from '../../platform/errors.ts';

export const MAX_TAG_LENGTH = 64;
export const MAX_TAGS_PER_VIDEO = 50;

export const normalizeTag = (tag: string): string => tag.normalize('NFC').trim().replace(/\s+/g, ' ').toLowerCase();

/** One tag as input; the limit is checked after normalization. */
export const tagInput = z
  .string({ error: 'a tag must be a string' })
  // Generous before trimming, so the message below is the one a long tag gets.
  .max(10 * MAX_TAG_LENGTH, `a tag may be at most ${MAX_TAG_LENGTH} characters`)
  .transform(normalizeTag)
  .pipe(z.string().min(1, 'a tag must not be empty').max(MAX_TAG_LENGTH, `a tag may be at most ${MAX_TAG_LENGTH} characters`));

export const tagListInput = z.array(tagInput).max(MAX_TAGS_PER_VIDEO, `a video may have at most ${MAX_TAGS_PER_VIDEO} tags`);

/** Tags in the order first given, without duplicates; throws a 400 over the limit. */
export function tagSet(tags: Iterable<string>): string[] {
  const unique = [...new Set([...tags].map(normalizeTag))];
  if (unique.length > MAX_TAGS_PER_VIDEO) {
    throw new AppError('too_many_tags', 400, `A video may have at most ${MAX_TAGS_PER_VIDEO} tags; this change would give it ${unique.length}.`);
  }
  for (const tag of unique) {
    if (!tag || tag.length > MAX_TAG_LENGTH) throw new AppError('invalid_tag', 400, `Each tag must be 1 to ${MAX_TAG_LENGTH} characters long.`);
  }
  return unique;
}
