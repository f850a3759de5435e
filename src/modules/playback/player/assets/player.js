// Haven's player: asks the playback API whether and how this viewer may
// watch, then plays the encrypted HLS ladder with hls.js (served by Haven,
// like everything this page loads). When the API says no, it shows what
// would let the viewer in: a password form, sign-in buttons, or why not.
// The playback token in every URL is renewed before it expires; later
// requests of the same hls.js instance are rewritten to the new token.
import Hls from './hls.mjs';
import { createBeacons } from './beacons.js';
import { createControls, el } from './controls.js';

const root = /** @type {HTMLElement} */ (document.getElementById('haven-player'));
const { videoId = '', link, lang = 'en' } = root.dataset;

/** @type {Record<string, string>} */
const strings = await fetch(new URL(`./i18n/${lang}.json`, import.meta.url)).then((r) => r.json()).catch(() => ({}));
/** @param {string} key @param {Record<string, string>} [vars] */
const t = (key, vars = {}) => (strings[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => vars[k] ?? '');

/**
 * @typedef {{ url: string, token: string, expiresAt: string, playbackId: string, beaconUrl?: string,
 *   video: { id: string, title: string, durationMs: number | null, posterUrl?: string | null, storyboardUrl?: string | null },
 *   captions?: { lang: string, label: string, url: string }[] }} Playback
 */

class PlaybackRefused extends Error {
  /** @param {number} status @param {{code?: string, message?: string, details?: any}} error */
  constructor(status, error) {
    super(error.message ?? 'refused');
    this.status = status;
    this.code = error.code ?? 'unknown';
    this.details = error.details;
  }
}

// ---------------------------------------------------------------------------
// The page

const video = el('video', { class: 'haven-video', playsinline: '', preload: 'metadata' });
const overlay = el('div', { class: 'haven-overlay', role: 'status', 'aria-live': 'polite' });
const stage = el('div', { class: 'haven-stage' }, [video, overlay]);
root.replaceChildren(stage);
root.setAttribute('role', 'region');
root.setAttribute('aria-label', t('player'));
root.tabIndex = -1;

/** @type {Playback | undefined} */
let playback;
/** @type {Hls | undefined} */
let hls;
let refreshTimer = 0;
let restarts = [];
let controls;
let beacons;

/**
 * Every playback URL, whatever token it was built with, goes out with the
 * current one: /play/<token>/… and the shared segment paths /play/v/…?token=.
 */
function rewriteUrl(url) {
  if (!playback) return url;
  const token = playback.token;
  return url
    .replace(/\/play\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\//, `/play/${token}/`)
    .replace(/([?&]token=)[^&#]*/, `$1${token}`);
}

function showMessage(text, extra = []) {
  overlay.replaceChildren(el('p', { class: 'haven-message', text }), ...extra);
  overlay.hidden = false;
  root.classList.add('haven-blocked');
}
function clearMessage() {
  overlay.replaceChildren();
  overlay.hidden = true;
  root.classList.remove('haven-blocked');
}

// ---------------------------------------------------------------------------
// The playback API

/** @returns {Promise<{ playback: Playback, skewMs: number }>} */
async function requestPlayback() {
  const q = new URLSearchParams();
  if (link) q.set('link', link);
  if (document.referrer) q.set('referrer', document.referrer);
  const res = await fetch(`/api/v1/videos/${encodeURIComponent(videoId)}/playback${q.size ? `?${q}` : ''}`, {
    headers: { accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store',
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new PlaybackRefused(res.status, body?.error ?? {});
  const serverNow = Date.parse(res.headers.get('date') ?? '');
  return { playback: body, skewMs: Number.isFinite(serverNow) ? Date.now() - serverNow : 0 };
}

/** CSRF token of a Haven session, for a write made while signed in. */
async function csrfToken() {
  const res = await fetch('/api/v1/auth/session', { credentials: 'same-origin' });
  return res.ok ? (await res.json()).csrfToken : undefined;
}

async function postJson(url, data) {
  const send = (headers = {}) => fetch(url, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(data) });
  let res = await send();
  if (res.status === 403) {
    const body = await res.clone().json().catch(() => ({}));
    const token = body?.error?.code === 'csrf_failed' ? await csrfToken() : undefined;
    if (token) res = await send({ 'x-csrf-token': token });
  }
  return res;
}

// ---------------------------------------------------------------------------
// What a refusal asks of the viewer

function returnTo() {
  return location.pathname + location.search;
}

/** @param {unknown} err */
function showRefusal(err) {
  stopPlayback();
  if (!(err instanceof PlaybackRefused)) return showMessage(t('error.network'), [retryButton()]);
  if (err.code === 'password_required') return showPasswordForm();
  if (err.code === 'sso_required') return showSsoButtons(err.details?.providers ?? []);
  const key = `error.${err.code}`;
  showMessage(strings[key] ?? (err.status >= 500 ? t('error.generic') : err.message || t('error.generic')), err.status >= 500 || err.code === 'video_not_ready' || err.code === 'video_not_playable' ? [retryButton()] : []);
  root.dataset.error = err.code;
}

function retryButton() {
  const b = el('button', { type: 'button', class: 'haven-action', text: t('retry') });
  b.addEventListener('click', () => void start());
  return b;
}

function showPasswordForm(wrong = false) {
  const input = el('input', { type: 'password', name: 'password', id: 'haven-password', autocomplete: 'current-password', required: '' });
  const form = el('form', { class: 'haven-password' }, [
    el('label', { for: 'haven-password', text: t('passwordLabel') }),
    input,
    el('button', { type: 'submit', class: 'haven-action', text: t('passwordSubmit') }),
  ]);
  if (wrong) form.append(el('p', { class: 'haven-error', role: 'alert', text: t('passwordWrong') }));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const res = await postJson(`/api/v1/videos/${encodeURIComponent(videoId)}/unlock`, { password: /** @type {HTMLInputElement} */ (input).value });
    if (res.ok) return start();
    const body = await res.json().catch(() => ({}));
    if (res.status === 429) return showMessage(body?.error?.message ?? t('error.generic'), [retryButton()]);
    showPasswordForm(true);
  });
  showMessage(t('passwordPrompt'), [form]);
  root.dataset.error = 'password_required';
  input.focus();
}

/** @param {{id: string, name: string, startUrl: string}[]} providers */
function showSsoButtons(providers) {
  const buttons = providers.map((p) => {
    const url = new URL(p.startUrl, location.href);
    url.searchParams.set('returnTo', returnTo());
    // Identity providers refuse to be framed: an embed signs in in the top window.
    return el('a', { class: 'haven-action haven-sso', href: url.pathname + url.search, target: root.dataset.mode === 'embed' ? '_top' : '_self', text: t('ssoButton', { name: p.name }) });
  });
  showMessage(t('ssoPrompt'), buttons);
  root.dataset.error = 'sso_required';
}

// ---------------------------------------------------------------------------
// Playing

function renditionName(level) {
  if (!level) return undefined;
  const short = Math.min(level.width || Infinity, level.height || Infinity);
  return Number.isFinite(short) ? `${short}p` : level.name || 'audio';
}

function stopPlayback() {
  clearTimeout(refreshTimer);
  hls?.destroy();
  hls = undefined;
}

/** Renews the token before it expires: a quarter of its life early, at least 10 s. */
function scheduleRefresh(skewMs) {
  clearTimeout(refreshTimer);
  if (!playback) return;
  const left = Date.parse(playback.expiresAt) - (Date.now() - skewMs);
  const delay = Math.max(5_000, Math.min(left - 10_000, left * 0.75));
  refreshTimer = window.setTimeout(refreshToken, delay);
}

async function refreshToken() {
  try {
    const { playback: fresh, skewMs } = await requestPlayback();
    playback = fresh;
    for (const track of video.querySelectorAll('track')) {
      if (track.readyState !== 2) track.src = rewriteUrl(track.src);
    }
    root.dataset.tokenRenewals = String(Number(root.dataset.tokenRenewals ?? 0) + 1);
    scheduleRefresh(skewMs);
  } catch (err) {
    // Refused now: the grant is over (link revoked, window closed). A network
    // failure is retried; the current token still works until it expires.
    if (err instanceof PlaybackRefused && err.status < 500) showRefusal(err);
    else refreshTimer = window.setTimeout(refreshToken, 10_000);
  }
}

/** Beacons go with the token and the playback id that /playback issued together. */
const beaconAuth = () => playback && { url: playback.beaconUrl ?? '/api/v1/playback/beacons', token: playback.token, playbackId: playback.playbackId };

// Playback starts at the beginning (or where it was), also for a rendition
// still encoding, whose EVENT playlist hls.js would otherwise join at its end.
function attachHls(startPosition = 0) {
  stopPlaybackEngine();
  if (!playback) return;
  if (!Hls.isSupported()) {
    // Safari on iOS plays HLS itself (and cannot rewrite tokens; a reload renews them).
    video.src = playback.url;
    return;
  }
  const instance = new Hls({
    enableWorker: false,
    startPosition,
    xhrSetup(xhr, url) { xhr.open('GET', rewriteUrl(url), true); },
  });
  hls = instance;
  instance.on(Hls.Events.MANIFEST_PARSED, () => {
    controls.setLevels(instance.levels.map((l) => ({ name: renditionName(l), height: Math.min(l.width || l.height, l.height || l.width) })), (index) => {
      instance.currentLevel = index;
      if (index === -1) instance.loadLevel = -1;
    });
  });
  instance.on(Hls.Events.LEVEL_SWITCHED, (_e, data) => {
    const name = renditionName(instance.levels[data.level]);
    root.dataset.level = name ?? '';
    controls.setCurrentLevel(name);
    beacons.quality();
  });
  instance.on(Hls.Events.ERROR, (_e, data) => {
    const status = data.response?.code ?? 0;
    // A 4xx from the key, a playlist or a segment: the grant or the token no longer holds. Ask why.
    if (status >= 400 && status < 500) return void diagnose(instance);
    if (!data.fatal) return;
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR && !instance.mediaRecovered) {
      instance.mediaRecovered = true;
      instance.recoverMediaError();
      return;
    }
    if (data.type === Hls.ErrorTypes.NETWORK_ERROR) return void diagnose(instance);
    stopPlayback();
    showMessage(t('error.playback'), [retryButton()]);
  });
  instance.loadSource(playback.url);
  instance.attachMedia(video);
}

function stopPlaybackEngine() {
  hls?.destroy();
  hls = undefined;
}

let diagnosing = false;
/** A load failed: a fresh /playback says whether the viewer may still watch (and gives a new token if so). */
async function diagnose(instance) {
  if (diagnosing || instance !== hls) return;
  diagnosing = true;
  try {
    const now = Date.now();
    restarts = restarts.filter((at) => now - at < 60_000);
    const { playback: fresh, skewMs } = await requestPlayback();
    if (restarts.length >= 3) {
      stopPlayback();
      return showMessage(t('error.playback'), [retryButton()]);
    }
    restarts.push(now);
    playback = fresh;
    scheduleRefresh(skewMs);
    const wasPlaying = !video.paused;
    attachHls(video.currentTime || 0);
    if (wasPlaying) video.play().catch(() => {});
  } catch (err) {
    showRefusal(err);
  } finally {
    diagnosing = false;
  }
}

function setupMedia() {
  if (!playback) return;
  document.title = playback.video.title || t('pageTitle');
  if (playback.video.posterUrl) video.poster = playback.video.posterUrl;
  for (const old of video.querySelectorAll('track')) old.remove();
  for (const c of playback.captions ?? []) {
    video.append(el('track', { kind: 'subtitles', src: c.url, srclang: c.lang, label: c.label }));
  }
  controls.setCaptions();
  const storyboardUrl = playback.video.storyboardUrl;
  if (storyboardUrl) {
    fetch(storyboardUrl, { credentials: 'same-origin' })
      .then((r) => (r.ok ? r.text() : ''))
      .then((text) => controls.setStoryboard(text, new URL(storyboardUrl, location.href).href))
      .catch(() => {});
  }
}

async function start() {
  stopPlayback();
  delete root.dataset.error;
  showMessage(t('loading'));
  try {
    const { playback: fresh, skewMs } = await requestPlayback();
    playback = fresh;
    clearMessage();
    setupMedia();
    attachHls();
    scheduleRefresh(skewMs);
    root.dataset.state = 'ready';
  } catch (err) {
    showRefusal(err);
  }
}

controls = createControls({ root: stage, video, t, rewriteUrl });
beacons = createBeacons({ video, auth: beaconAuth, rendition: () => renditionName(hls?.levels[hls.currentLevel]) });

/** For tests and embedding pages: the live state, and a fresh hls.js instance on the current token. */
root.havenPlayer = {
  get hls() { return hls; },
  get token() { return playback?.token; },
  video,
  restart: () => attachHls(video.currentTime || 0),
  renewToken: refreshToken,
};

await start();
