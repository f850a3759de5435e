// Why an input is refused, as a code for programs and a sentence for people.
export const mediaProblemCodes = [
  'not_media',
  'truncated',
  'no_video_stream',
  'unsupported_codec',
  'resolution_too_large',
  'resolution_too_small',
  'duration_too_long',
  'frame_rate_invalid',
  'decompression_bomb',
] as const;
export type MediaProblemCode = (typeof mediaProblemCodes)[number];

export interface MediaProblem {
  code: MediaProblemCode;
  message: string;
}

/** Thrown when a file cannot even be probed; validateProbe returns the same shape. */
export class MediaRejected extends Error implements MediaProblem {
  readonly code: MediaProblemCode;

  constructor(code: MediaProblemCode, message: string) {
    super(message);
    this.name = 'MediaRejected';
    this.code = code;
  }
}
