// One @tus/server per region, storing into that region's private staging dir
// with @tus/file-store. Haven's request context reaches tus's hooks through
// the raw request; tus's own errors are turned into Haven's error envelope.
// tus is loaded with the first upload, not at start-up (~5 MB of heap).
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from '@tus/server';
import { AppError } from '../../platform/errors.ts';
import type { Platform } from '../../platform/platform.ts';
import type { RequestContext } from '../identity/actor.ts';
import type { Staging } from './staging.ts';
import { createUploadLocker } from './upload-lock.ts';
import type { UploadRecords } from './uploads.ts';

export const UPLOADS_PATH = '/api/v1/uploads';
export const VIDEO_ID_HEADER = 'Haven-Video-Id';

type TenantContext = RequestContext & { tenantId: string };
type TusRequest = Parameters<NonNullable<ConstructorParameters<typeof Server>[0]['onIncomingRequest']>>[0];

/** Haven's context of the request a tus hook runs for. */
const contexts = new WeakMap<IncomingMessage, TenantContext>();

export function attachContext(raw: IncomingMessage, ctx: TenantContext): void {
  contexts.set(raw, ctx);
}

function nodeOf(req: TusRequest): { req: IncomingMessage; res: ServerResponse } {
  const node = (req as unknown as { runtime?: { node?: { req: IncomingMessage; res: ServerResponse } } }).runtime?.node;
  if (!node) throw new Error('tus request without its Node.js request');
  return node;
}

function contextOf(req: TusRequest): TenantContext {
  const ctx = contexts.get(nodeOf(req).req);
  if (!ctx) throw new AppError('unauthenticated', 401, 'Sign in to continue.');
  return ctx;
}

export interface TusServers { forRegion(region: string): Promise<Server> }

export function createTusServers(platform: Platform, staging: Staging, records: UploadRecords): TusServers {
  const servers = new Map<string, Promise<Server>>();
  const build = async (region: string) => {
    const [{ Server }, { FileStore }, { ERRORS }] = await Promise.all([import('@tus/server'), import('@tus/file-store'), import('@tus/utils')]);
    knowTusErrors(ERRORS);
    return new Server({
      path: UPLOADS_PATH,
      datastore: new FileStore({ directory: staging.uploadsDir(region), expirationPeriodInMilliseconds: platform.config.uploadExpiryHours * 3600_000 }),
      relativeLocation: true,
      namingFunction: () => randomBytes(16).toString('hex'),
      // Same-origin only: the endpoint takes session cookies, so no CORS grants for other sites.
      allowedOrigins: () => false,
      exposedHeaders: [VIDEO_ID_HEADER],
      disableTerminationForFinishedUploads: true,
      locker: (req) => createUploadLocker(platform.db, contextOf(req).tenantId, { waitMs: req.method === 'HEAD' ? 3000 : 0 }),
      async onUploadCreate(req, upload) {
        const { videoId } = await records.create(contextOf(req), region, upload.id, upload.size, upload.metadata);
        nodeOf(req).res.setHeader(VIDEO_ID_HEADER, videoId);
        // The title and file name are on the video row now; the staged state file needs neither.
        return { metadata: {} };
      },
      async onUploadFinish(req, upload) {
        const ctx = contextOf(req);
        await records.finish(ctx.tenantId, upload.id, ctx);
        return {};
      },
      onResponseError(req, err) {
        const { status, body } = tusErrorEnvelope(err, platform);
        nodeOf(req).res.setHeader('content-type', 'application/json; charset=utf-8');
        return { status_code: status, body };
      },
    });
  };
  return {
    forRegion(region) {
      let server = servers.get(region);
      if (!server) {
        // The private directory first: the file store would create it with the umask's looser mode.
        server = staging.prepare(region).then(() => build(region));
        // A failed start is not remembered: the next upload tries again.
        server.catch(() => servers.delete(region));
        servers.set(region, server);
      }
      return server;
    },
  };
}

/** tus's errors (objects with status_code and a text body), by the code Haven gives them; filled when tus is loaded. */
const TUS_ERRORS = new Map<unknown, [string, string]>();

function knowTusErrors(ERRORS: typeof import('@tus/utils').ERRORS): void {
  if (TUS_ERRORS.size) return;
  for (const [err, codeAndMessage] of tusErrorCodes(ERRORS)) TUS_ERRORS.set(err, codeAndMessage);
}

const tusErrorCodes = (ERRORS: typeof import('@tus/utils').ERRORS): [unknown, [string, string]][] => [
  [ERRORS.INVALID_OFFSET, ['upload_offset_conflict', 'Upload-Offset does not match the bytes received; ask for the offset (HEAD) and resume from there.']],
  [ERRORS.ERR_SIZE_EXCEEDED, ['upload_length_exceeded', 'The request carries more bytes than the upload declared in Upload-Length.']],
  [ERRORS.ERR_MAX_SIZE_EXCEEDED, ['upload_length_exceeded', 'The upload is larger than allowed.']],
  [ERRORS.FILE_NOT_FOUND, ['upload_not_found', 'No upload with that id exists.']],
  [ERRORS.FILE_NO_LONGER_EXISTS, ['upload_expired', 'The upload expired before it was finished; start a new one.']],
  [ERRORS.MISSING_OFFSET, ['upload_offset_required', 'PATCH needs an Upload-Offset header.']],
  [ERRORS.INVALID_CONTENT_TYPE, ['unsupported_media_type', 'PATCH bodies must be sent as application/offset+octet-stream.']],
  [ERRORS.INVALID_LENGTH, ['upload_length_required', 'Declare the file size with Upload-Length.']],
  [ERRORS.INVALID_METADATA, ['upload_metadata_invalid', 'Upload-Metadata must be comma-separated "key base64value" pairs.']],
  [ERRORS.INVALID_TERMINATION, ['upload_complete', 'A finished upload cannot be cancelled; its video is being processed.']],
  [ERRORS.ABORTED, ['upload_aborted', 'The request ended before its body arrived; resume from the current offset.']],
  [ERRORS.FILE_WRITE_ERROR, ['upload_write_failed', 'The bytes could not be stored; resume from the current offset.']],
  [ERRORS.UNSUPPORTED_CONCATENATION_EXTENSION, ['not_supported', 'Parallel (concatenated) uploads are not supported.']],
  [ERRORS.UNSUPPORTED_CREATION_DEFER_LENGTH_EXTENSION, ['upload_length_required', 'Uploads of unknown length are not accepted.']],
];

export function tusErrorEnvelope(err: unknown, platform: Pick<Platform, 'log'>): { status: number; body: string } {
  const envelope = (code: string, message: string, details?: unknown) => JSON.stringify({ error: details === undefined ? { code, message } : { code, message, details } });
  if (err instanceof AppError) return { status: err.status, body: envelope(err.code, err.message, err.details) };
  const status = (err as { status_code?: number }).status_code;
  // tus also throws its own classes carrying one of these bodies (the stream limiter's MaxFileExceededError).
  const known = TUS_ERRORS.get(err) ?? [...TUS_ERRORS].find(([e]) => (e as { body: string }).body === (err as { body?: string }).body)?.[1];
  if (known && status) return { status, body: envelope(known[0], known[1]) };
  if (status && status < 500) return { status, body: envelope('bad_request', String((err as { body?: string }).body ?? 'The upload request is invalid.').trim()) };
  platform.log.error({ err }, 'upload request failed');
  return { status: 500, body: envelope('internal_error', 'Something went wrong on our side while receiving the upload.') };
}
