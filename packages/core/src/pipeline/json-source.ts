import { isUtf8 } from 'node:buffer';
import { readFile, stat } from 'node:fs/promises';
import { pointerAt, scanJsonText } from './json-scan.js';
import { PipelineError } from '../plugin-api/pipeline-error.js';

/** Line and column (1-based) of a character offset in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Offset of a `JSON.parse` error. V8 gives `at position N` for most errors; for an unexpected token it
 * may only quote the text around it (`Unexpected token ',', ..."seed": ,\n}" is not valid JSON`), so
 * the quoted excerpt is located in the text.
 */
function errorOffset(message: string, text: string): number {
  const position = /position (\d+)/.exec(message);
  if (position) return Number(position[1]);
  const token = /Unexpected token '(.+?)', (?:\.\.\.)?"([\s\S]*?)"(?:\.\.\.)? is not valid JSON/.exec(message);
  if (token) {
    const [, tok = '', excerpt = ''] = token;
    const at = text.indexOf(excerpt);
    if (at >= 0) return at + Math.max(0, excerpt.indexOf(tok));
  }
  return text.length;
}

/**
 * What went wrong in a `JSON.parse` of `text`, in one line with line and column, quoting nothing of
 * the text (it may be any file: `/etc/passwd` named as a pipeline or a model). V8's own message
 * quotes the text around an unexpected token; only its fixed wording is kept.
 */
export function jsonSyntaxProblem(error: unknown, text: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const { line, column } = lineColumn(text, errorOffset(message, text));
  const what = /^Unexpected token/.test(message)
    ? 'unexpected character'
    : message
        .replace(/\s*in JSON at position \d+.*$/s, '')
        .replace(/,?\s*(\.\.\.)?".*$/s, '')
        .replace(/"/g, '');
  return `invalid JSON at line ${line}, column ${column}: ${what}`;
}

/**
 * Parses JSON text; a syntax error becomes a {@link PipelineError} with line and column (quoting none
 * of the text), and so do what JSON.parse accepts silently (duplicate keys, over-deep nesting, numbers
 * beyond a double's range; see {@link scanJsonText}), each with its JSON pointer.
 */
export function parseJson(text: string, file: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (e) {
    throw PipelineError.at('', jsonSyntaxProblem(e, text), file);
  }
  const problems = scanJsonText(text);
  if (problems.length > 0) throw new PipelineError(problems, file);
  return value;
}

/** Largest pipeline file read, in bytes. */
export const MAX_PIPELINE_BYTES = 16 * 1024 * 1024;

/**
 * Reads and parses a JSON file (a regular file, at most {@link MAX_PIPELINE_BYTES}); a missing or unreadable file is a
 * {@link PipelineError}.
 */
export async function readJsonFile(file: string): Promise<unknown> {
  let bytes: Buffer;
  try {
    const s = await stat(file);
    if (s.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (!s.isFile()) throw new Error('not a regular file');
    if (s.size > MAX_PIPELINE_BYTES)
      throw new Error(`${s.size} bytes, over the ${MAX_PIPELINE_BYTES}-byte limit for a pipeline`);
    bytes = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw PipelineError.at('', `cannot read ${file}: ${why}`, file);
  }
  const text = bytes.toString('utf8');
  if (!isUtf8(bytes)) {
    // refused, not silently replaced: said at the value holding the first invalid byte
    const at = firstInvalidUtf8(bytes, text);
    const { line, column } = lineColumn(text, at.char);
    throw PipelineError.at(
      pointerAt(text, at.char),
      `invalid UTF-8 at byte ${at.byte} (line ${line}, column ${column}): a pipeline must be UTF-8 text`,
      file,
    );
  }
  return parseJson(text, file);
}

/**
 * Where the first invalid UTF-8 sequence of `bytes` is: its byte offset and the character offset of
 * the U+FFFD that replaced it in `lossy` (`bytes` decoded with replacement). A U+FFFD that the file
 * spells out validly (EF BF BD) is skipped.
 */
export function firstInvalidUtf8(bytes: Uint8Array, lossy: string): { byte: number; char: number } {
  let byte = 0;
  let from = 0;
  for (let i = lossy.indexOf('\uFFFD'); i >= 0; i = lossy.indexOf('\uFFFD', i + 1)) {
    byte += Buffer.byteLength(lossy.slice(from, i), 'utf8');
    if (!(bytes[byte] === 0xef && bytes[byte + 1] === 0xbf && bytes[byte + 2] === 0xbd)) return { byte, char: i };
    byte += 3;
    from = i + 1;
  }
  return { byte: bytes.length, char: lossy.length };
}
