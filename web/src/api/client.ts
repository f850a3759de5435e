// The typed Haven API for the web app: openapi-fetch over the generated
// schema (schema.d.ts, from /api/v1/openapi.json). Same-origin cookies, the
// CSRF token added to every unsafe request, and one error type for all.
import createClient, { createQuerySerializer, type Middleware } from 'openapi-fetch';
import type { paths } from './schema.d.ts';

export type { paths, components } from './schema.d.ts';

/** Every failure the UI shows: the server's error envelope, or `network` when no answer came. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
  /** Worth a Retry button: the network or the server failed, not the request. */
  get retryable(): boolean { return this.code === 'network' || this.status >= 500 || this.status === 429; }
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const CSRF_HEADER = 'X-CSRF-Token';
/** Answers that must not send the person to sign-in on 401: they are how one signs in. */
const AUTH_PATHS = ['/api/v1/auth/login', '/api/v1/auth/session', '/api/v1/auth/passkey/', '/api/v1/auth/password-reset', '/api/v1/invitations/'];

let csrfToken: string | undefined;
let csrfPending: Promise<string | undefined> | undefined;
type Listener = (error: ApiError) => void;
const listeners = new Set<Listener>();

/** The session provider keeps the token current (after sign-in, on refresh). */
export function setCsrfToken(token: string | undefined): void { csrfToken = token; }

/** Called with 401 answers of authenticated calls and with the gate's 403s (consent, 2FA enrolment). */
export function onAuthProblem(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

async function currentCsrfToken(): Promise<string | undefined> {
  if (csrfToken) return csrfToken;
  csrfPending ??= fetch('/api/v1/auth/session', { credentials: 'same-origin', headers: { accept: 'application/json' } })
    .then(async (r) => (r.ok ? ((await r.json()) as { csrfToken?: string }).csrfToken : undefined))
    .catch(() => undefined)
    .finally(() => { csrfPending = undefined; });
  csrfToken = await csrfPending;
  return csrfToken;
}

async function errorFrom(response: Response): Promise<ApiError> {
  let body: unknown;
  try { body = response.bodyUsed ? undefined : await response.clone().json(); } catch { body = undefined; }
  const envelope = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
  if (envelope && typeof envelope.code === 'string') {
    return new ApiError(response.status, envelope.code, typeof envelope.message === 'string' ? envelope.message : response.statusText, envelope.details);
  }
  return new ApiError(response.status, response.status >= 500 ? 'server_error' : 'http_error', response.statusText || `HTTP ${response.status}`);
}

const GATE_CODES = new Set(['consent_required', 'second_factor_enrollment_required']);
const SESSION_ENDED_CODES = new Set(['unauthenticated', 'sign_in_required', 'invalid_token', 'invalid_authorization']);

async function notify(request: Request, response: Response): Promise<void> {
  const path = new URL(request.url, location.origin).pathname;
  if (response.status === 401 && !AUTH_PATHS.some((p) => path.startsWith(p))) {
    // Only a missing or ended session sends the person to sign-in; a wrong
    // password or code on a re-check (password_incorrect, reauthentication_required,
    // invalid_second_factor…) is the form's error to show.
    const err = await errorFrom(response);
    if (!SESSION_ENDED_CODES.has(err.code)) return;
    setCsrfToken(undefined);
    for (const l of listeners) l(err);
  } else if (response.status === 403) {
    const err = await errorFrom(response);
    if (GATE_CODES.has(err.code)) for (const l of listeners) l(err);
    if (err.code === 'csrf_failed') setCsrfToken(undefined);
  }
}

const sessionMiddleware: Middleware = {
  async onRequest({ request }) {
    if (UNSAFE.has(request.method.toUpperCase()) && !request.headers.has(CSRF_HEADER)) {
      const token = await currentCsrfToken();
      if (token) request.headers.set(CSRF_HEADER, token);
    }
    return request;
  },
  async onResponse({ request, response }) {
    await notify(request, response);
    return response;
  },
};

/**
 * GET answers asked for before the code that reads them had loaded (a page's
 * first data, fetched at boot beside the session and the page's code), by
 * normalized URL. The typed client's first identical GET takes one instead of
 * asking again; one not taken within PREFETCH_TTL_MS is dropped.
 */
const prefetched = new Map<string, { response: Promise<Response>; expires: number }>();
const PREFETCH_TTL_MS = 10_000;

function requestKey(url: string): string {
  const u = new URL(url, location.origin);
  u.searchParams.sort();
  return `${u.pathname}?${u.searchParams}`;
}

const serializeQuery = createQuerySerializer();

/** A GET's URL with its query serialized as the typed client serializes it (for prefetch). */
export function apiUrl(path: string, query: Record<string, unknown>): string {
  const search = serializeQuery(query);
  return search ? `${path}?${search}` : path;
}

/** Starts a same-origin GET of `path` now, for the typed client's first identical GET. */
export function prefetch(path: string): void {
  const response = fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } });
  // Handled here too, so one that fails and is never taken is no unhandled rejection.
  response.catch(() => undefined);
  prefetched.set(requestKey(path), { response, expires: Date.now() + PREFETCH_TTL_MS });
}

function fetchOrPrefetched(request: Request): Promise<Response> {
  if (request.method === 'GET' && prefetched.size > 0) {
    const key = requestKey(request.url);
    const hit = prefetched.get(key);
    prefetched.delete(key);
    if (hit && hit.expires > Date.now()) return hit.response;
  }
  return fetch(request);
}

export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin', fetch: fetchOrPrefetched });
api.use(sessionMiddleware);

type Answer<D> = { data?: D; error?: unknown; response: Response };

/** Awaits an `api.GET(...)`/`api.POST(...)`: its data, or throws ApiError (code `network` when no answer came). */
export async function call<D>(request: Promise<Answer<D>>): Promise<D> {
  let answer: Answer<D>;
  try {
    answer = await request;
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError(0, 'network', err instanceof Error ? err.message : String(err));
  }
  if (!answer.response.ok) {
    // openapi-fetch has read the body already: its parsed form is `error`.
    const envelope = (answer.error as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
    if (envelope && typeof envelope.code === 'string') {
      throw new ApiError(answer.response.status, envelope.code, typeof envelope.message === 'string' ? envelope.message : answer.response.statusText, envelope.details);
    }
    throw await errorFrom(answer.response);
  }
  return answer.data as D;
}

/**
 * A same-origin request outside the typed client (downloads, streaming
 * bodies): the CSRF header and auth notifications apply alike; throws
 * ApiError for non-2xx answers.
 */
export async function request(path: string, init: RequestInit = {}): Promise<Response> {
  const req = new Request(path, { credentials: 'same-origin', ...init });
  if (UNSAFE.has(req.method.toUpperCase()) && !req.headers.has(CSRF_HEADER)) {
    const token = await currentCsrfToken();
    if (token) req.headers.set(CSRF_HEADER, token);
  }
  let response: Response;
  try {
    response = await fetch(req);
  } catch (err) {
    throw new ApiError(0, 'network', err instanceof Error ? err.message : String(err));
  }
  await notify(req, response);
  if (!response.ok) throw await errorFrom(response);
  return response;
}
