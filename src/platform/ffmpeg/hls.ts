// HLS text and AES-128 segment encryption. Segments are encrypted whole with
// AES-128-CBC and PKCS#7 padding (METHOD=AES-128, RFC 8216 §4.3.2.4), one
// IV per rendition stated in the playlist. The init segment (codec
// configuration only, no picture or sound) precedes the key tag and stays
// in the clear, which every HLS player handles.
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';

export interface MediaPlaylist {
  targetDuration: number;
  /** URI of the EXT-X-MAP init segment. */
  map?: string;
  segments: { uri: string; duration: number }[];
}

/** Reads the playlists ffmpeg writes (growing while it encodes, one map, no keys). */
export function parseMediaPlaylist(text: string): MediaPlaylist {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  if (lines[0] !== '#EXTM3U') throw new Error('not an HLS playlist');
  let targetDuration = 0;
  let map: string | undefined;
  let pending: number | undefined;
  const segments: MediaPlaylist['segments'] = [];
  for (const line of lines.slice(1)) {
    if (line.startsWith('#EXT-X-TARGETDURATION:')) targetDuration = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-MAP:')) map = /URI="([^"]+)"/.exec(line)?.[1];
    else if (line.startsWith('#EXTINF:')) pending = Number.parseFloat(line.slice(8));
    else if (!line.startsWith('#')) {
      if (pending === undefined) throw new Error(`segment ${line} has no EXTINF`);
      segments.push({ uri: line, duration: pending });
      pending = undefined;
    }
  }
  return { targetDuration, map, segments };
}

export function encryptSegment(plaintext: Buffer, key: Buffer, iv: Buffer): Buffer {
  const cipher = createCipheriv('aes-128-cbc', key, iv);
  return Buffer.concat([cipher.update(plaintext), cipher.final()]);
}

export function decryptSegment(ciphertext: Buffer, key: Buffer, iv: Buffer): Buffer {
  const decipher = createDecipheriv('aes-128-cbc', key, iv);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

/**
 * The IV of a rendition's segments: derived from the ladder's key and the
 * rendition's directory, so an encode that is retried after its first
 * segments were already offered writes segments any viewer can decrypt with
 * the playlist it already has. The IV is public (it is in the playlist); it
 * only has to differ between renditions under one key.
 */
export function renditionIv(hlsKey: Buffer, rendition: string): Buffer {
  return createHmac('sha256', hlsKey).update(`haven-hls-iv:${rendition}`).digest().subarray(0, 16);
}

/**
 * The media playlist as stored: the same segments, under one AES-128 key tag.
 * A rendition still encoding is an EVENT playlist without an end, which
 * players reload and play from the start while it grows.
 */
export function renderMediaPlaylist(playlist: MediaPlaylist, keyUri: string, iv: Buffer, opts: { growing?: boolean } = {}): string {
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    `#EXT-X-TARGETDURATION:${Math.max(1, Math.ceil(playlist.targetDuration))}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    `#EXT-X-PLAYLIST-TYPE:${opts.growing ? 'EVENT' : 'VOD'}`,
    '#EXT-X-INDEPENDENT-SEGMENTS',
  ];
  if (playlist.map) lines.push(`#EXT-X-MAP:URI="${playlist.map}"`);
  lines.push(`#EXT-X-KEY:METHOD=AES-128,URI="${keyUri}",IV=0x${iv.toString('hex')}`);
  for (const s of playlist.segments) lines.push(`#EXTINF:${s.duration.toFixed(6)},`, s.uri);
  if (!opts.growing) lines.push('#EXT-X-ENDLIST');
  lines.push('');
  return lines.join('\n');
}

/** The key tag of a stored media playlist: where playback's key URI goes, and the IV. */
export function keyTagOf(playlistText: string): { uri: string; iv: Buffer } | undefined {
  const m = /#EXT-X-KEY:METHOD=AES-128,URI="([^"]*)",IV=0x([0-9a-fA-F]{32})/.exec(playlistText);
  return m ? { uri: m[1]!, iv: Buffer.from(m[2]!, 'hex') } : undefined;
}

export interface Variant {
  uri: string;
  /** Peak segment bitrate, bits per second. */
  bandwidth: number;
  averageBandwidth: number;
  codecs: string;
  width?: number;
  height?: number;
  frameRate?: number;
}

export function renderMasterPlaylist(variants: Variant[]): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  for (const v of variants) {
    const attrs = [`BANDWIDTH=${v.bandwidth}`, `AVERAGE-BANDWIDTH=${v.averageBandwidth}`, `CODECS="${v.codecs}"`];
    if (v.width && v.height) attrs.push(`RESOLUTION=${v.width}x${v.height}`);
    if (v.frameRate) attrs.push(`FRAME-RATE=${v.frameRate.toFixed(3)}`);
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, v.uri);
  }
  lines.push('');
  return lines.join('\n');
}

/** RFC 6381 codec string of the H.264 track in an init segment ("avc1.64001f"), from its avcC box. */
export function avcCodecString(initSegment: Buffer): string | undefined {
  const at = initSegment.indexOf('avcC', 0, 'latin1');
  if (at < 0 || at + 8 > initSegment.length) return undefined;
  // avcC payload: configurationVersion, profile, profile compatibility, level.
  return `avc1.${initSegment.subarray(at + 5, at + 8).toString('hex')}`;
}

export const AAC_LC_CODEC = 'mp4a.40.2';
