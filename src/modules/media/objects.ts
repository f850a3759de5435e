// Where a video's objects live in its region's store. Playback reads these
// keys; docs/media.md describes the layout and what encrypts each object.
export const videoPrefix = (tenantId: string, videoId: string) => `t/${tenantId}/v/${videoId}/`;

/** The uploaded file, HVN1-encrypted with the video's data key. */
export const originalKey = (tenantId: string, videoId: string) => `${videoPrefix(tenantId, videoId)}original.hvn`;

export const hlsPrefix = (tenantId: string, videoId: string) => `${videoPrefix(tenantId, videoId)}hls/`;

/** The master playlist: plaintext, lists only the renditions that are ready. */
export const masterPlaylistKey = (tenantId: string, videoId: string) => `${hlsPrefix(tenantId, videoId)}master.m3u8`;

/**
 * One rendition: index.m3u8 (plaintext), init.mp4 (plaintext codec setup),
 * seg-NNNNN.m4s (AES-128). `rendition` is its directory (renditionDir), which
 * is also the path segment players request it by.
 */
export const renditionPrefix = (tenantId: string, videoId: string, rendition: string) => `${hlsPrefix(tenantId, videoId)}${rendition}/`;

/**
 * A rendition's directory in its ladder generation: generation 0 (a video's
 * first ladder) keeps the plain name, later ones (replaced sources) are
 * g<n>-<name>. Every URL of a generation differs from the previous one's, so
 * a cache never mixes two ladders, and both can exist side by side.
 */
export const renditionDir = (rendition: string, generation: number) => (generation === 0 ? rendition : `g${generation}-${rendition}`);

/** Whether an HLS directory belongs to a generation (for removing one ladder and leaving the other). */
export const isDirOfGeneration = (dir: string, generation: number) => (generation === 0 ? !/^g\d+-/.test(dir) : dir.startsWith(`g${generation}-`));

export const imagesPrefix = (tenantId: string, videoId: string) => `${videoPrefix(tenantId, videoId)}images/`;

/** Poster, thumbnails and storyboard sprite: JPEGs, HVN1-encrypted with the data key; the storyboard VTT is plaintext. */
export const imageKey = (tenantId: string, videoId: string, file: string) => `${imagesPrefix(tenantId, videoId)}${file}`;

/**
 * The URI written into every EXT-X-KEY tag. It names no endpoint: playback
 * replaces it with its key URL (carrying the viewer's playback token) when
 * it serves a playlist, so stored playlists never hold a credential. From
 * generation 1 on it names its generation, whose own HLS key the key endpoint
 * hands out (a player of the old ladder keeps getting the old key).
 */
export const hlsKeyUriPlaceholder = (videoId: string, generation = 0) => (generation === 0 ? `haven-key://video/${videoId}` : `haven-key://video/${videoId}/g${generation}`);
