import { createReadStream, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';

/** One line of a text file, 1-based line number, without its line break. */
export interface NumberedLine {
  /** The line's text; empty for a line over the limit. */
  readonly text: string;
  readonly line: number;
  /**
   * Set (to the line's length so far, in characters) when the line was longer than the limit: its text was dropped;
   * treat it as a bad row.
   */
  readonly tooLong?: number;
}

/** Longest line kept, in characters (UTF-16 code units): a longer line is dropped as it is read and reported as `tooLong`. */
export const MAX_LINE_CHARS = 4 * 1024 * 1024;

/** The reason to give for a {@link NumberedLine} with `tooLong`. */
export function tooLongReason(chars: number): string {
  return `line is longer than ${MAX_LINE_CHARS} characters (${chars} read before it was dropped)`;
}

/**
 * Lines of a readable stream, read incrementally with backpressure: the next chunk is read only when the
 * consumer asks for more lines, so memory is bounded by one chunk plus the longest line. A trailing
 * `\r` is dropped (CRLF files).
 */
export async function* streamLines(
  stream: AsyncIterable<Buffer | string>,
  firstLine = 1,
): AsyncGenerator<NumberedLine> {
  for await (const lines of streamLineChunks(stream, firstLine)) yield* lines;
}

/**
 * {@link streamLines} grouped by the chunk they completed in (one array per chunk read; possibly empty),
 * for consumers that handle a chunk's lines together (e.g. one fsync per chunk). The last line may lack
 * its line break.
 */
export async function* streamLineChunks(
  stream: AsyncIterable<Buffer | string>,
  firstLine = 1,
  maxLine = MAX_LINE_CHARS,
): AsyncGenerator<NumberedLine[]> {
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let line = firstLine;
  // characters of the current line already dropped because it grew over `maxLine` (0: not dropping)
  let dropped = 0;
  const numbered = (raw: string): NumberedLine => {
    if (dropped > 0 || raw.length > maxLine) {
      const out = { text: '', line: line++, tooLong: dropped + raw.length };
      dropped = 0;
      return out;
    }
    return { text: raw.endsWith('\r') ? raw.slice(0, -1) : raw, line: line++ };
  };
  for await (const chunk of stream) {
    carry += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    const parts = carry.split('\n');
    carry = parts.pop() ?? '';
    if (carry.length > maxLine) {
      dropped += carry.length;
      carry = '';
    }
    yield parts.map(numbered);
  }
  carry += decoder.end();
  if (carry.length > 0 || dropped > 0) yield [numbered(carry)];
}

/**
 * Opens a text file (gunzipped on the fly when its name ends in `.gz`). Only regular files are
 * opened: a device (`/dev/zero`), FIFO or socket would never end, so it is refused with one line.
 */
export function openText(file: string): Readable {
  let regular: boolean;
  try {
    regular = statSync(file).isFile();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? (err as Error).message)}`, {
      cause: err,
    });
  }
  if (!regular) throw new Error(`cannot read ${file}: not a regular file (devices, FIFOs and folders are refused)`);
  const raw = createReadStream(file, { highWaterMark: 64 * 1024 });
  return file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
}

/** Lines of a file, read incrementally. Errors name the file; only regular files are read (see {@link openText}). */
export async function* fileLines(file: string): AsyncGenerator<NumberedLine> {
  const stream = openText(file);
  try {
    yield* streamLines(stream);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`, {
      cause: err,
    });
  } finally {
    stream.destroy();
  }
}
