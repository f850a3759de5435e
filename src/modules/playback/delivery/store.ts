// The little delivery reads from the database: what the player is told about
// a video when playback starts. Segments, playlists and images are read from
// storage under the token, with no query at all.
import type { Tx } from '../../../platform/db/database.ts';

export interface PlayableVideo {
  id: string;
  title: string;
  durationMs: number | null;
  hasPoster: boolean;
  hasStoryboard: boolean;
  playableRenditions: number;
}

interface AssetsJson { poster?: unknown; storyboard?: unknown }

export async function playableVideo(tx: Tx, videoId: string): Promise<PlayableVideo | undefined> {
  const row = await tx
    .selectFrom('videos as v')
    .select((eb) => [
      'v.id', 'v.title', 'v.duration_ms', 'v.assets',
      eb.selectFrom('renditions as r').select(eb.fn.countAll<string>().as('n')).whereRef('r.video_id', '=', 'v.id').where('r.status', 'in', ['streaming', 'ready']).as('playable_renditions'),
    ])
    .where('v.id', '=', videoId)
    .executeTakeFirst();
  if (!row) return undefined;
  const assets = (row.assets ?? {}) as AssetsJson;
  return {
    id: row.id,
    title: row.title,
    durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
    hasPoster: Boolean(assets.poster),
    hasStoryboard: Boolean(assets.storyboard),
    playableRenditions: Number(row.playable_renditions ?? 0),
  };
}
