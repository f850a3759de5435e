// Shared reply schemas: every route documents the error envelope it can answer.
import { z } from 'zod';

export const errorEnvelope = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
}).describe('Error');

export const errorResponses = {
  400: errorEnvelope,
  401: errorEnvelope,
  403: errorEnvelope,
  404: errorEnvelope,
  409: errorEnvelope,
  429: errorEnvelope,
} as const;

export const idParam = z.object({ id: z.uuid('must be a valid id') });
