// ffmpeg and ffprobe behind a small interface, with no knowledge of videos,
// tenants or storage (DESIGN §3): probe, validate, plan, transcode, images.
export {
  avcCodecString, AAC_LC_CODEC, decryptSegment, encryptSegment, keyTagOf, parseMediaPlaylist, renderMasterPlaylist, renderMediaPlaylist, renditionIv, type MediaPlaylist, type Variant,
} from './hls.ts';
export { fitWidth, poster, storyboard, storyboardLayout, storyboardVtt, thumbnails, type ImageSize, type StoryboardLayout } from './images.ts';
export { planLadder, rungsOf, type AudioRung, type Ladder, type Rung, type VideoRung } from './ladder.ts';
export { MediaRejected, mediaProblemCodes, type MediaProblem, type MediaProblemCode } from './problems.ts';
export { ACCEPTED_DEMUXERS, primaryAudio, primaryVideo, probe, untrustedInputArgs, type ProbeSummary, type StreamSummary } from './probe.ts';
export { reniceTool, runTool, ToolError, type ToolProgress } from './process.ts';
export { identifyingTagKeys } from './tags.ts';
export { SEGMENT_SECONDS, transcodeRendition, transcodeRenditions, type RenditionOutput, type StillRequest, type StoryboardRequest } from './transcode.ts';
export { defaultMediaLimits, isProblem, validateProbe, type MediaKind, type MediaLimits } from './validate.ts';
