// Uploads in progress, kept outside React so they go on while the person
// moves around the app. Each file is a tus upload: several run in parallel,
// and the upload URL is remembered in localStorage under the file's
// fingerprint (name, type, size, modification time), so choosing the same
// file again after a reload resumes where the server left off.
import { Upload, type PreviousUpload, defaultOptions } from 'tus-js-client';
import { ApiError, call, api } from '../../../api/client.ts';

export const UPLOAD_ENDPOINT = '/api/v1/uploads';
/** Bytes per PATCH: what a reload loses at most, and how often progress is saved. */
export const CHUNK_BYTES = 4 * 1024 * 1024;
const RETRY_DELAYS = [0, 1000, 3000, 5000, 10000];

export type UploadPhase = 'uploading' | 'paused' | 'processing' | 'ready' | 'failed' | 'cancelled';

export interface UploadItem {
  key: string;
  fileName: string;
  title: string;
  size: number;
  sent: number;
  /** Where the upload resumed from (bytes), when it did. */
  resumedFrom: number | null;
  phase: UploadPhase;
  videoId: string | null;
  uploadId: string | null;
  processingPercent: number;
  processingStep: string | null;
  /** An error code (for a localized message) and the server's message. */
  error: { code: string; message: string } | null;
}

type Listener = () => void;
const listeners = new Set<Listener>();
let items: UploadItem[] = [];
const running = new Map<string, { upload: Upload; events?: EventSource }>();
let counter = 0;

function emit(): void { for (const l of listeners) l(); }
function update(key: string, patch: Partial<UploadItem>): void {
  items = items.map((i) => (i.key === key ? { ...i, ...patch } : i));
  emit();
}

export function subscribeUploads(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
export function uploadSnapshot(): UploadItem[] { return items; }

/** Removes finished, failed and cancelled uploads from the list. */
export function clearFinished(): void {
  items = items.filter((i) => i.phase === 'uploading' || i.phase === 'processing' || i.phase === 'paused');
  emit();
}

async function csrfToken(): Promise<string | undefined> {
  const session = await fetch('/api/v1/auth/session', { credentials: 'same-origin', headers: { accept: 'application/json' } }).catch(() => undefined);
  if (!session?.ok) return undefined;
  return ((await session.json()) as { csrfToken?: string }).csrfToken;
}

const uploadIdOf = (url: string | null) => (url ? decodeURIComponent(url.split('/').pop() ?? '') || null : null);

function titleFromFileName(name: string): string {
  const base = name.replace(/\.[^.]+$/, '').replace(/[_]+/g, ' ').trim();
  return base || name;
}

/** Unfinished uploads remembered in this browser (from before a reload). */
export async function rememberedUploads(): Promise<PreviousUpload[]> {
  try {
    return (await defaultOptions.urlStorage.findAllUploads()).filter((u) => u.uploadUrl?.includes(UPLOAD_ENDPOINT));
  } catch {
    return [];
  }
}

export async function forgetRemembered(upload: PreviousUpload): Promise<void> {
  await defaultOptions.urlStorage.removeUpload(upload.urlStorageKey).catch(() => undefined);
}

/** Starts uploading files (or resumes each one this browser began before). */
export function startUploads(files: File[]): void {
  for (const file of files) void startOne(file);
}

async function startOne(file: File): Promise<void> {
  const key = `u${++counter}`;
  const item: UploadItem = {
    key, fileName: file.name, title: titleFromFileName(file.name), size: file.size, sent: 0, resumedFrom: null, phase: 'uploading',
    videoId: null, uploadId: null, processingPercent: 0, processingStep: null, error: null,
  };
  items = [...items, item];
  emit();
  let token = await csrfToken();

  const upload: Upload = new Upload(file, {
    endpoint: UPLOAD_ENDPOINT,
    chunkSize: CHUNK_BYTES,
    retryDelays: RETRY_DELAYS,
    metadata: { filename: file.name, title: item.title, filetype: file.type || 'application/octet-stream' },
    storeFingerprintForResuming: true,
    removeFingerprintOnSuccess: true,
    onBeforeRequest: async (req) => {
      token ??= await csrfToken();
      if (token) req.setHeader('X-CSRF-Token', token);
    },
    onAfterResponse: (req, res) => {
      const videoId = res.getHeader('Haven-Video-Id');
      if (req.getMethod() === 'POST' && videoId) update(key, { videoId });
      // A session that expired mid-upload: the token must be fetched again after sign-in.
      if (res.getStatus() === 403 || res.getStatus() === 401) token = undefined;
    },
    onUploadUrlAvailable: () => update(key, { uploadId: uploadIdOf(upload.url) }),
    onShouldRetry: (err) => {
      const status = err.originalResponse?.getStatus() ?? 0;
      return status === 0 || status >= 500 || status === 409 || status === 423 || status === 429;
    },
    onProgress: (sent, total) => update(key, { sent, size: total }),
    onError: (err) => {
      running.delete(key);
      update(key, { phase: 'failed', error: tusError(err) });
    },
    onSuccess: () => {
      const current = items.find((i) => i.key === key);
      update(key, { sent: current?.size ?? file.size, phase: 'processing' });
      void followProcessing(key, uploadIdOf(upload.url));
    },
  });
  running.set(key, { upload });

  const previous = (await upload.findPreviousUploads().catch(() => [])).filter((p) => p.uploadUrl);
  const latest = previous.sort((a, b) => Date.parse(b.creationTime) - Date.parse(a.creationTime))[0];
  if (latest) {
    const state = await uploadState(uploadIdOf(latest.uploadUrl));
    if (state && !state.complete) {
      upload.resumeFromPreviousUpload(latest);
      update(key, { resumedFrom: state.receivedBytes, sent: state.receivedBytes, videoId: state.videoId, uploadId: state.id });
    } else {
      // Gone, expired or already complete: start afresh and forget the stale entries.
      for (const p of previous) await forgetRemembered(p);
    }
  }
  upload.start();
}

async function uploadState(id: string | null) {
  if (!id) return undefined;
  try {
    return await call(api.GET('/api/v1/uploads/{id}', { params: { path: { id } } }));
  } catch {
    return undefined;
  }
}

function tusError(err: Error): { code: string; message: string } {
  const res = (err as { originalResponse?: { getBody(): string; getStatus(): number } | null }).originalResponse;
  if (res) {
    try {
      const body = JSON.parse(res.getBody()) as { error?: { code?: string; message?: string } };
      if (body.error?.code) return { code: body.error.code, message: body.error.message ?? '' };
    } catch { /* not JSON */ }
    return { code: res.getStatus() >= 500 ? 'server_error' : 'upload_failed', message: err.message };
  }
  return { code: 'network', message: err.message };
}

/** Live processing progress from the video's event stream until ready or failed. */
async function followProcessing(key: string, uploadId: string | null): Promise<void> {
  let videoId = items.find((i) => i.key === key)?.videoId ?? null;
  if (!videoId) videoId = (await uploadState(uploadId))?.videoId ?? null;
  if (!videoId) return update(key, { phase: 'failed', error: { code: 'video_not_found', message: '' } });
  update(key, { videoId });
  watchVideo(key, videoId);
}

interface ProgressEvent { status: string; progress: { percent: number; step: string | null }; error: { code: string; message: string | null } | null }

function watchVideo(key: string, videoId: string): void {
  const events = new EventSource(`/api/v1/videos/${encodeURIComponent(videoId)}/events`, { withCredentials: true });
  const entry = running.get(key);
  if (entry) entry.events = events;
  events.addEventListener('progress', (e) => {
    const p = JSON.parse((e as MessageEvent<string>).data) as ProgressEvent;
    const phase: UploadPhase = p.status === 'ready' ? 'ready' : p.status === 'failed' ? 'failed' : 'processing';
    update(key, {
      phase, processingPercent: p.progress.percent, processingStep: p.progress.step,
      error: p.error ? { code: p.error.code, message: p.error.message ?? '' } : null,
    });
  });
  const finish = () => { events.close(); running.delete(key); };
  events.addEventListener('end', finish);
  events.addEventListener('gone', () => { finish(); update(key, { phase: 'cancelled' }); });
  // EventSource reconnects by itself after network errors (retry: 2000); a closed stream means a 4xx.
  events.onerror = () => { if (events.readyState === EventSource.CLOSED) finish(); };
}

/** Pauses an upload; resume() goes on from the server's offset. */
export function pauseUpload(key: string): void {
  const entry = running.get(key);
  if (!entry) return;
  void entry.upload.abort(false);
  update(key, { phase: 'paused' });
}

export function resumeUpload(key: string): void {
  const entry = running.get(key);
  if (!entry) return;
  update(key, { phase: 'uploading', error: null });
  entry.upload.start();
}

/** Cancels an upload: the server removes the partial file and its video. */
export async function cancelUpload(key: string): Promise<void> {
  const entry = running.get(key);
  running.delete(key);
  entry?.events?.close();
  if (entry && items.find((i) => i.key === key)?.phase !== 'ready') {
    try {
      await entry.upload.abort(true);
    } catch (err) {
      update(key, { error: { code: err instanceof ApiError ? err.code : 'network', message: err instanceof Error ? err.message : '' } });
    }
  }
  update(key, { phase: 'cancelled' });
}

/** True while any upload still sends bytes (the page warns before unloading). */
export function anyUploading(): boolean {
  return items.some((i) => i.phase === 'uploading');
}
