// Every error path answers with the envelope {"error":{"code","message","details?"}}.
// Unknown errors become a 500 that names the request id and nothing else.
import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ZodError } from 'zod';
import { AppError } from '../errors.ts';

export interface ErrorEnvelope { error: { code: string; message: string; details?: unknown } }

const envelope = (code: string, message: string, details?: unknown): ErrorEnvelope => ({ error: details === undefined ? { code, message } : { code, message, details } });

/** Fastify's own error codes mapped to the codes and words Haven uses. */
const FASTIFY_ERRORS: Record<string, [number, string, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large', 'The request body is larger than this endpoint accepts.'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type', 'This endpoint does not accept that Content-Type.'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid_content_length', 'The Content-Length header does not match the body.'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'malformed_json', 'The body is empty but the Content-Type says JSON.'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'malformed_json', 'The request body is not valid JSON.'],
  FST_ERR_CTP_EMPTY_TYPE: [400, 'invalid_content_type', 'The Content-Type header is empty.'],
  FST_ERR_CTP_INVALID_TYPE: [400, 'invalid_content_type', 'The Content-Type header is not valid.'],
  FST_ERR_BAD_URL: [400, 'bad_url', 'The request URL is malformed.'],
  FST_ERR_ASYNC_CONSTRAINT: [400, 'bad_request', 'The request could not be routed.'],
};

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof AppError) {
      return reply.status(err.status).send(envelope(err.code, err.message, err.details));
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const details = err.validation.map((v) => ({ path: `${err.validationContext ?? 'body'}${v.instancePath.replaceAll('/', '.')}`, message: v.message }));
      const first = details[0];
      return reply.status(400).send(envelope('invalid_request', first ? `Invalid ${first.path}: ${first.message}` : 'The request is invalid.', details));
    }
    // A service parsing its own input (e.g. an email inside a larger operation).
    if (err instanceof ZodError) {
      const details = err.issues.map((i) => ({ path: i.path.join('.') || 'value', message: i.message }));
      return reply.status(400).send(envelope('invalid_request', `Invalid ${details[0]!.path}: ${details[0]!.message}`, details));
    }
    const mapped = err.code ? FASTIFY_ERRORS[err.code] : undefined;
    if (mapped) return reply.status(mapped[0]).send(envelope(mapped[1], mapped[2]));
    if (err.statusCode === 429) {
      return reply.status(429).send(envelope('rate_limited', 'Too many requests; slow down and retry after the time in the Retry-After header.'));
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.status(err.statusCode).send(envelope('bad_request', err.message || 'The request is invalid.'));
    }
    req.log.error({ err }, 'unhandled error');
    return reply.status(500).send(envelope('internal_error', `Something went wrong on our side. Quote request id ${req.id} when reporting it.`));
  });

  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send(envelope('route_not_found', `No route ${req.method} ${req.url.split('?')[0]}.`));
  });
}
