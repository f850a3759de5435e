// What the media pipeline adds to a video in the API: whether it can play
// yet, its renditions, and the technical record of its source (streams and
// the metadata KEYS found — never their values — all of which were stripped).
import { z } from 'zod';
import type { Tx } from '../../platform/db/database.ts';
import type { VideoViewExtension } from '../library/view.ts';
import type { TechnicalRecord } from './pipeline.ts';
import { isPlayable, type RenditionRow, renditionsOfMany } from './store.ts';

const rendition = z.object({
  name: z.string(),
  kind: z.enum(['video', 'audio']),
  width: z.number().nullable(),
  height: z.number().nullable(),
  bandwidth: z.number().describe('Peak bits per second (HLS BANDWIDTH)'),
  codecs: z.string(),
  status: z.enum(['pending', 'streaming', 'ready']).describe('streaming: offered while it is still encoding (its playlist grows until it is ready)'),
  readyAt: z.date().nullable(),
});

const stream = z.object({
  index: z.number(), type: z.string(), codec: z.string(), profile: z.string().optional(),
  width: z.number().optional(), height: z.number().optional(), fps: z.number().optional(), bitRate: z.number().optional(),
  rotation: z.number(), channels: z.number().optional(), sampleRate: z.number().optional(), durationMs: z.number().optional(),
});

const technical = z.object({
  kind: z.enum(['video', 'audio']),
  container: z.string(),
  durationMs: z.number().nullable(),
  sizeBytes: z.number(),
  bitRate: z.number().nullable(),
  streams: z.array(stream),
  chapters: z.number(),
  metadataKeys: z.array(z.string()).describe('Metadata keys the source carried (values are never kept); none of them reaches any output'),
  identifyingMetadataKeys: z.array(z.string()).describe('Those of the keys that can identify a person, a place or a device'),
});

export const mediaFields = {
  playable: z.boolean().describe('A rendition is ready or streaming: playback can start while the rest is still processing'),
  renditions: z.array(rendition),
  technical: technical.nullable(),
};

/** `renditions` are the current ladder's; `playable` also counts a previous ladder still played during a replacement. */
export function mediaView(renditions: RenditionRow[], record: TechnicalRecord | Record<string, never> | null, playable = renditions.some(isPlayable)) {
  const rec = record && 'probe' in record ? record : undefined;
  return {
    playable,
    renditions: renditions.map((r) => ({ name: r.name, kind: r.kind, width: r.width, height: r.height, bandwidth: r.bandwidth, codecs: r.codecs, status: r.status, readyAt: r.ready_at })),
    technical: rec ? {
      kind: rec.kind,
      container: rec.probe.container,
      durationMs: rec.probe.durationMs,
      sizeBytes: rec.probe.sizeBytes,
      bitRate: rec.probe.bitRate,
      streams: rec.probe.streams.map(({ index, type, codec, profile, displayWidth, displayHeight, fps, bitRate, rotation, channels, sampleRate, durationMs }) =>
        ({ index, type, codec, profile, width: displayWidth, height: displayHeight, fps, bitRate, rotation, channels, sampleRate, durationMs })),
      chapters: rec.probe.chapters,
      metadataKeys: rec.probe.tagKeys,
      identifyingMetadataKeys: rec.identifyingTagKeys,
    } : null,
  };
}

/** The library's video view gains the media fields through this. */
export const mediaViewExtension: VideoViewExtension = {
  name: 'media',
  fields: mediaFields,
  async load(tx: Tx, _tenantId: string, videoIds: string[]) {
    const renditions = await renditionsOfMany(tx, videoIds);
    const technicals = await tx.selectFrom('videos').select(['id', 'technical']).where('id', 'in', videoIds).execute();
    const out = new Map<string, Record<string, unknown>>();
    for (const t of technicals) {
      const mine = renditions.filter((r) => r.video_id === t.id);
      out.set(t.id, mediaView(mine.filter((r) => r.current), t.technical, mine.some(isPlayable)));
    }
    return out;
  },
};
