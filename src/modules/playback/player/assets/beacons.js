// View beacons (POST /api/v1/playback/beacons): start on the first play,
// progress every 15 s of playing, quality on a rendition switch, rebuffer
// when a stall ends, end when the video ends or the page goes away. What is
// kept of them is the tenant's analytics policy's business, not the player's.

const PROGRESS_EVERY_MS = 15_000;

/**
 * @param {{
 *   video: HTMLVideoElement,
 *   auth: () => { url: string, token: string, playbackId: string } | undefined,
 *   rendition: () => string | undefined,
 * }} opts
 */
export function createBeacons({ video, auth, rendition }) {
  let started = false;
  let ended = false;
  let watched = 0;
  let lastPosition = 0;
  let stallStartedAt = 0;
  let timer = 0;

  const event = (type, extra = {}) => {
    const r = rendition();
    return { type, at: Math.round(performance.now()), position: round(video.currentTime), watched: round(watched), ...(r ? { rendition: r } : {}), ...extra };
  };
  const round = (n) => Math.round((Number.isFinite(n) ? n : 0) * 10) / 10;

  function body(events) {
    const a = auth();
    if (!a) return undefined;
    return { url: a.url, json: JSON.stringify({ token: a.token, playbackId: a.playbackId, events, screen: { width: screen.width, height: screen.height } }) };
  }

  function send(...events) {
    const b = body(events);
    if (!b) return;
    fetch(b.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: b.json, keepalive: true, credentials: 'same-origin' }).catch(() => {});
  }

  /** The last word: sendBeacon survives the page being closed. */
  function sendFinal(...events) {
    const b = body(events);
    if (!b) return;
    const blob = new Blob([b.json], { type: 'application/json' });
    if (!navigator.sendBeacon?.(b.url, blob)) send(...events);
  }

  video.addEventListener('timeupdate', () => {
    const delta = video.currentTime - lastPosition;
    // Only time that played counts: a seek jumps further than a timeupdate interval.
    if (!video.seeking && delta > 0 && delta < 1.5) watched += delta;
    lastPosition = video.currentTime;
  });
  video.addEventListener('seeked', () => { lastPosition = video.currentTime; });
  video.addEventListener('playing', () => {
    if (!started) {
      started = true;
      ended = false;
      send(event('start'));
    } else if (stallStartedAt) {
      send(event('rebuffer', { durationMs: Math.round(performance.now() - stallStartedAt) }));
    }
    stallStartedAt = 0;
    clearInterval(timer);
    timer = window.setInterval(() => { if (!video.paused) send(event('progress')); }, PROGRESS_EVERY_MS);
  });
  video.addEventListener('waiting', () => {
    if (started && !video.seeking) stallStartedAt = performance.now();
  });
  video.addEventListener('pause', () => clearInterval(timer));
  const finish = () => {
    clearInterval(timer);
    if (!started || ended) return;
    ended = true;
    sendFinal(event('end'));
  };
  video.addEventListener('ended', finish);
  window.addEventListener('pagehide', finish);

  return {
    /** The player switched rendition (hls.js LEVEL_SWITCHED). */
    quality() { if (started) send(event('quality')); },
    finish,
  };
}
