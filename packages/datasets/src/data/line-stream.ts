import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';

/** One line of a text file, 1-based line number, without its line break. */
export interface NumberedLine {
  readonly text: string;
  readonly line: number;
}

/**
 * Lines of a readable stream, read incrementally with backpressure: the next chunk is read only when the
 * consumer asks for more lines, so memory is bounded by one chunk plus the longest line. A trailing
 * `\r` is dropped (CRLF files).
 */
export async function* streamLines(stream: AsyncIterable<Buffer | string>, firstLine = 1): AsyncGenerator<NumberedLine> {
  for await (const lines of streamLineChunks(stream, firstLine)) yield* lines;
}

/**
 * {@link streamLines} grouped by the chunk they completed in (one array per chunk read; possibly empty),
 * for consumers that handle a chunk's lines together (e.g. one fsync per chunk). The last line may lack
 * its line break.
 */
export async function* streamLineChunks(stream: AsyncIterable<Buffer | string>, firstLine = 1): AsyncGenerator<NumberedLine[]> {
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let line = firstLine;
  const numbered = (raw: string): NumberedLine => ({ text: raw.endsWith('\r') ? raw.slice(0, -1) : raw, line: line++ });
  for await (const chunk of stream) {
    carry += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    const parts = carry.split('\n');
    carry = parts.pop() ?? '';
    yield parts.map(numbered);
  }
  carry += decoder.end();
  if (carry.length > 0) yield [numbered(carry)];
}

/** Opens a text file (gunzipped on the fly when its name ends in `.gz`). */
export function openText(file: string): Readable {
  const raw = createReadStream(file, { highWaterMark: 64 * 1024 });
  return file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
}

/** Lines of a file, read incrementally. Errors name the file. */
export async function* fileLines(file: string): AsyncGenerator<NumberedLine> {
  const stream = openText(file);
  try {
    yield* streamLines(stream);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  } finally {
    stream.destroy();
  }
}
