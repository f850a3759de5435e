// How a ladder is split into transcode jobs, all queued at once. The lowest
// video rendition is a job of its own and queued first, so it is published
// as early as possible (it is the cheapest encode, and the source's decode
// caps what one encode can use of the CPU, so the others, running beside it,
// slow it little); the rest form groups of up to `perJob`. Each job decodes
// the source once, so one large group costs the least CPU; smaller groups
// let more workers share a video (HAVEN_TRANSCODE_RENDITIONS_PER_JOB).
export interface GroupedRendition { name: string; kind: 'video' | 'audio'; width: number | null; height: number | null }

export function transcodeGroups(renditions: GroupedRendition[], perJob: number): string[][] {
  const short = (r: GroupedRendition) => Math.min(r.width ?? 0, r.height ?? 0);
  const video = renditions.filter((r) => r.kind === 'video').sort((a, b) => short(a) - short(b));
  const audio = renditions.filter((r) => r.kind === 'audio');
  const [lowest, ...rest] = video.length ? video : audio;
  if (!lowest) return [];
  const later = (video.length ? [...rest, ...audio] : rest).map((r) => r.name);
  const groups = [[lowest.name]];
  for (let i = 0; i < later.length; i += perJob) groups.push(later.slice(i, i + perJob));
  return groups;
}

/** The rendition published first: the first group's only one (the lowest video rendition, or the audio of a sound-only file). */
export function firstRendition(renditions: GroupedRendition[], perJob: number): string | undefined {
  return transcodeGroups(renditions, perJob)[0]?.[0];
}

/** The group that also produces the images: the one with the top video rendition (whose run decodes at full size). */
export function imagesGroup(groups: string[][], renditions: GroupedRendition[]): string[] | undefined {
  const short = (r: GroupedRendition) => Math.min(r.width ?? 0, r.height ?? 0);
  const top = renditions.filter((r) => r.kind === 'video').sort((a, b) => short(b) - short(a))[0];
  return top && groups.find((g) => g.includes(top.name));
}
