// WebVTT, as far as Haven needs it: check that an uploaded caption file is
// one a browser will read (signature, cue timings in order), and pull out the
// words people say in it for search. Follows the W3C WebVTT parsing rules
// loosely: a file a browser accepts is accepted here; what is refused gets the
// line number of the first problem.
import { AppError } from '../../../platform/errors.ts';

export interface Cue { startMs: number; endMs: number; text: string }

const TIMESTAMP = /^(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})$/;

function invalid(line: number, message: string): AppError {
  return new AppError('captions_invalid', 400, `Not a valid WebVTT file: line ${line}: ${message}`, { line });
}

function parseTimestamp(text: string): number | undefined {
  const m = TIMESTAMP.exec(text);
  if (!m) return undefined;
  const [, h, min, s, ms] = m;
  return ((Number(h ?? 0) * 60 + Number(min)) * 60 + Number(s)) * 1000 + Number(ms);
}

/** Parses a cue timing line ("00:01.000 --> 00:04.250 line:90%"); throws with the line number. */
function parseTiming(text: string, lineNo: number): { startMs: number; endMs: number } {
  const m = /^(\S+)[ \t]+-->[ \t]+(\S+)(?:[ \t]+.*)?$/.exec(text);
  if (!m) throw invalid(lineNo, 'expected a cue timing such as "00:00:01.000 --> 00:00:04.000".');
  const startMs = parseTimestamp(m[1]!);
  const endMs = parseTimestamp(m[2]!);
  if (startMs === undefined) throw invalid(lineNo, `"${m[1]!.slice(0, 20)}" is not a timestamp (hh:mm:ss.ttt or mm:ss.ttt).`);
  if (endMs === undefined) throw invalid(lineNo, `"${m[2]!.slice(0, 20)}" is not a timestamp (hh:mm:ss.ttt or mm:ss.ttt).`);
  if (endMs <= startMs) throw invalid(lineNo, 'the cue ends before it starts.');
  return { startMs, endMs };
}

/**
 * Parses a WebVTT file into its cues, or throws 400 captions_invalid naming
 * the line. NOTE, STYLE and REGION blocks are skipped.
 */
export function parseWebVtt(source: string): Cue[] {
  if (source.includes('\u0000')) throw invalid(1, 'the file contains NUL characters.');
  const text = source.replace(/^\uFEFF/, '');
  const lines = text.split(/\r\n|\r|\n/);
  if (!/^WEBVTT(?:[ \t].*)?$/.test(lines[0] ?? '')) throw invalid(1, 'a WebVTT file starts with the line "WEBVTT".');
  let i = 1;
  // The header runs to the first blank line.
  while (i < lines.length && lines[i] !== '') {
    if (lines[i]!.includes('-->')) throw invalid(i + 1, 'a blank line must separate the "WEBVTT" header from the first cue.');
    i++;
  }
  const cues: Cue[] = [];
  let lastStart = 0;
  while (i < lines.length) {
    while (i < lines.length && lines[i]!.trim() === '') i++;
    if (i >= lines.length) break;
    const blockStart = i;
    const first = lines[i]!;
    if (/^(NOTE|STYLE|REGION)(?:[ \t]|$)/.test(first) && !first.includes('-->')) {
      while (i < lines.length && lines[i] !== '') i++;
      continue;
    }
    // An optional cue identifier, then the timing line.
    let timingLine = first;
    if (!first.includes('-->')) {
      i++;
      timingLine = lines[i] ?? '';
      if (!timingLine.includes('-->')) throw invalid(i + 1 > lines.length ? blockStart + 1 : i + 1, 'expected a cue timing such as "00:00:01.000 --> 00:00:04.000" after the cue identifier.');
    }
    const { startMs, endMs } = parseTiming(timingLine.trim(), i + 1);
    if (startMs < lastStart) throw invalid(i + 1, 'cues must be in order of their start times.');
    lastStart = startMs;
    i++;
    const payload: string[] = [];
    while (i < lines.length && lines[i] !== '') {
      if (lines[i]!.includes('-->')) throw invalid(i + 1, 'cue text may not contain "-->"; separate cues with a blank line.');
      payload.push(lines[i]!);
      i++;
    }
    cues.push({ startMs, endMs, text: payload.join('\n') });
  }
  return cues;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', nbsp: ' ', lrm: '', rlm: '', quot: '"', apos: "'" };

/** What the cues say, without timings, markup or voice tags: one line per cue. */
export function spokenText(cues: Cue[]): string {
  return cues
    .map((c) => c.text
      .replace(/<[^>]*>/g, '')
      .replace(/&(#\d+|#x[0-9a-f]+|[a-z]+);/gi, (whole, name: string) => {
        if (name.startsWith('#')) {
          const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
          return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : ' ';
        }
        return ENTITIES[name.toLowerCase()] ?? whole;
      })
      .replace(/\s+/g, ' ')
      .trim())
    .filter(Boolean)
    .join('\n');
}
