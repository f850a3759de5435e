// The URLs delivery serves, parsed by strict patterns before anything touches
// storage: no part of a request path becomes part of an object key unless it
// matched one of these.
//
//   /play/<token>/master.m3u8                    master playlist
//   /play/<token>/<rendition>/index.m3u8         media playlist (key URI and segment URIs rewritten)
//   /play/<token>/<rendition>/init.mp4|seg-N.m4s init and segments (also reachable under the token)
//   /play/v/<videoId>/<rendition>/<file>?token=  init and segments at a path shared by every viewer (CDN-cacheable)
//   /play/<token>/key                            the 16-byte HLS key
//   /play/<token>/poster.jpg | thumb-<n>.jpg | storyboard.jpg | storyboard.vtt

export const PLAY_PREFIX = '/play';

const TOKEN = /^[A-Za-z0-9_-]{20,800}\.[A-Za-z0-9_-]{43}$/;
const RENDITION = /^[a-z0-9_-]{1,32}$/;
const MEDIA_FILE = /^(?:init\.mp4|seg-\d{5,6}\.m4s)$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const IMAGE = /^(?:poster\.jpg|thumb-[0-9]\.jpg|storyboard\.jpg|storyboard\.vtt)$/;

export type PlayPath =
  | { kind: 'master'; token: string }
  | { kind: 'media-playlist'; token: string; rendition: string }
  | { kind: 'media'; token: string; rendition: string; file: string; videoId?: string }
  | { kind: 'key'; token: string; generation?: number }
  | { kind: 'image'; token: string; file: string };

/** The part of the path after /play/, split; undefined when it is not one of ours. */
export function parsePlayPath(rest: string, queryToken: string | undefined): PlayPath | undefined {
  const parts = rest.split('/');
  if (parts[0] === 'v') {
    const [, videoId, rendition, file] = parts;
    if (parts.length !== 4 || !queryToken || !TOKEN.test(queryToken)) return undefined;
    if (!UUID.test(videoId!) || !RENDITION.test(rendition!) || !MEDIA_FILE.test(file!)) return undefined;
    return { kind: 'media', token: queryToken, rendition: rendition!, file: file!, videoId };
  }
  const token = parts[0]!;
  if (!TOKEN.test(token)) return undefined;
  if (parts.length === 2) {
    const name = parts[1]!;
    if (name === 'master.m3u8') return { kind: 'master', token };
    if (name === 'key') return { kind: 'key', token };
    // The key of one ladder generation of a replaced video's source (media/objects.ts).
    const keyOf = /^key-g(\d{1,9})$/.exec(name);
    if (keyOf) return { kind: 'key', token, generation: Number(keyOf[1]) };
    if (IMAGE.test(name)) return { kind: 'image', token, file: name };
    return undefined;
  }
  if (parts.length === 3 && RENDITION.test(parts[1]!)) {
    if (parts[2] === 'index.m3u8') return { kind: 'media-playlist', token, rendition: parts[1]! };
    if (MEDIA_FILE.test(parts[2]!)) return { kind: 'media', token, rendition: parts[1]!, file: parts[2]! };
  }
  return undefined;
}

/** A token only ever looks like this: a cheap filter before any crypto. */
export const looksLikeToken = (token: string) => TOKEN.test(token);

export const masterUrl = (token: string) => `${PLAY_PREFIX}/${token}/master.m3u8`;
export const imageUrl = (token: string, file: string) => `${PLAY_PREFIX}/${token}/${file}`;

/**
 * A stored media playlist as one viewer gets it: the key placeholder becomes
 * the key endpoint under their token (relative: ../key), and the init and
 * segments point at the path every viewer shares (../../v/<video>/<rendition>/…),
 * carrying the token in the query, so a cache keyed on the path serves one
 * copy of each segment to everyone.
 */
export function rewriteMediaPlaylist(stored: string, videoId: string, rendition: string, token: string): string {
  const shared = (file: string) => `../../v/${videoId}/${rendition}/${file}?token=${token}`;
  return stored
    .split('\n')
    .map((line) => {
      if (line.startsWith('#EXT-X-KEY:')) return line.replace(/URI="haven-key:\/\/[^"]*?(?:\/g(\d{1,9}))?"/g, (_m, g?: string) => (g ? `URI="../key-g${g}"` : 'URI="../key"'));
      if (line.startsWith('#EXT-X-MAP:')) return line.replace(/URI="([^"]+)"/, (m, uri: string) => (MEDIA_FILE.test(uri) ? `URI="${shared(uri)}"` : m));
      if (!line.startsWith('#') && MEDIA_FILE.test(line.trim())) return shared(line.trim());
      return line;
    })
    .join('\n');
}

/** The storyboard WebVTT with its sprite references pointing at the sprite route under the token. */
export function rewriteStoryboardVtt(stored: string, token: string): string {
  return stored.replace(/^storyboard\.jpg#/gm, `${imageUrl(token, 'storyboard.jpg')}#`);
}
