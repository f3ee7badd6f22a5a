import { isAbsolute, relative } from 'node:path';
import type { FileRow, RowFormat } from './row-format.js';

/** True when `file` lies inside `dir` (or is `dir`). */
export function isInside(dir: string, file: string): boolean {
  const rel = relative(dir, file);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * Removes what an error message may quote from a file: double- and single-quoted excerpts and
 * parenthesised lists (a CSV header, a JSON parse error's context). Structure words stay.
 */
export function redact(message: string): string {
  return message
    .replace(/"(?:[^"\\]|\\.)*"(?:\.\.\.)?/g, '"…"')
    .replace(/'(?:[^'\\]|\\.)*'/g, "'…'")
    .replace(/\([^()]*\)/g, '(…)');
}

/**
 * A {@link RowFormat} whose errors never quote the file's content: used for data files outside the
 * pipeline's folder (`../../etc/shadow`), whose content the pipeline's author may not be entitled to
 * read through Engram's messages. Bad rows are still counted and skipped (or fail the run) the same way.
 */
export class RedactedFormat implements RowFormat {
  constructor(private readonly inner: RowFormat) {}

  get spec(): RowFormat['spec'] {
    return this.inner.spec;
  }

  get regression(): boolean {
    return this.inner.regression;
  }

  async *rows(file: string): AsyncGenerator<FileRow> {
    try {
      for await (const r of this.inner.rows(file))
        yield 'error' in r.row ? { ...r, row: { error: redact(r.row.error) } } : r;
    } catch (e) {
      // eslint-disable-next-line preserve-caught-error -- the cause quotes the file: only the redacted message may travel
      throw new Error(redact((e as Error).message));
    }
  }

  features(): number | undefined {
    return this.inner.features();
  }
}
