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
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let line = firstLine;
  for await (const chunk of stream) {
    carry += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let nl = carry.indexOf('\n');
    while (nl >= 0) {
      const raw = carry.slice(0, nl);
      carry = carry.slice(nl + 1);
      yield { text: raw.endsWith('\r') ? raw.slice(0, -1) : raw, line: line++ };
      nl = carry.indexOf('\n');
    }
  }
  carry += decoder.end();
  if (carry.length > 0) yield { text: carry.endsWith('\r') ? carry.slice(0, -1) : carry, line };
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
