import { parse, type CsvError, type Info } from 'csv-parse';
import { fileLines, MAX_LINE_CHARS, openText, tooLongReason } from '../data/line-stream.js';
import {
  csvLayout,
  parseCsvCells,
  parseJsonLine,
  type CsvLayout,
  type JsonFields,
  type LabelSpec,
  type ParsedRow,
} from '../data/row-parsers.js';

/** One data row of a file: the sample or why it was rejected, where it starts (1-based line) and its text. */
export interface FileRow {
  readonly row: ParsedRow;
  readonly line: number;
  readonly text: string;
}

/** How a row file (CSV, JSONL) becomes samples. */
export interface RowFormat {
  /**
   * The file's data rows in order, read incrementally (one chunk at a time, never the whole file);
   * headers and blank lines are not rows. Throws only for an unreadable file or unusable header.
   */
  rows(file: string): AsyncIterable<FileRow>;
  /** Features per sample once known (after the header for CSV, after the first valid record for JSONL). */
  features(): number | undefined;
  /** Labels spec (for numClasses). */
  readonly spec: LabelSpec;
  /** True when rows carry regression targets (`t`) instead of labels: the file names target columns/a field. */
  readonly regression: boolean;
}

/** CSV options that shape parsing. */
export interface CsvFormatOptions {
  readonly header: boolean;
  readonly delimiter: string;
  readonly labelColumn?: string | number | undefined;
  readonly featureColumns?: readonly (string | number)[] | undefined;
  readonly targetColumns?: readonly (string | number)[] | undefined;
  readonly groupColumn?: string | number | undefined;
  readonly labels?: readonly string[] | undefined;
  readonly numClasses?: number | undefined;
}

/** What csv-parse yields per record with `info` and `raw` on. */
interface CsvRecord {
  readonly record: string[];
  readonly info: Info;
  readonly raw: string;
}

/** Line breaks inside `raw` (a record's text, possibly with its own line break at the end). */
function innerBreaks(raw: string): number {
  const body = raw.replace(/\r?\n$/, '');
  return body.length - body.replace(/\n/g, '').length;
}

/**
 * A CSV {@link RowFormat} on csv-parse (RFC 4180: quoted fields may hold delimiters, quotes as `""` and
 * line breaks): header, label column, feature columns, delimiter, BOM. A record with malformed quoting
 * is a bad row like any other; so is one with the wrong number of fields.
 */
export class CsvFormat implements RowFormat {
  private layout: CsvLayout | undefined;
  readonly spec: LabelSpec;
  readonly regression: boolean;

  constructor(private readonly o: CsvFormatOptions) {
    this.spec = { labels: o.labels, numClasses: o.numClasses };
    this.regression = o.targetColumns !== undefined;
  }

  async *rows(file: string): AsyncGenerator<FileRow> {
    const skipped: FileRow[] = [];
    const parser = parse({
      delimiter: this.o.delimiter,
      bom: true,
      info: true,
      raw: true,
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      max_record_size: MAX_LINE_CHARS,
      on_skip: (err: CsvError | undefined, raw: string | undefined) => {
        const text = raw ?? '';
        skipped.push({
          row: { error: `malformed CSV: ${err?.message ?? 'unreadable record'}` },
          line: Math.max(1, Number((err as { lines?: unknown } | undefined)?.lines ?? 1) - innerBreaks(text)),
          text,
        });
        return undefined;
      },
    });
    const source = openText(file);
    source.on('error', (e) => parser.destroy(e));
    source.pipe(parser);
    try {
      for await (const chunk of parser as AsyncIterable<CsvRecord>) {
        const line = chunk.info.lines - innerBreaks(chunk.raw);
        // csv-parse reports a skipped record as soon as it parses it, maybe before earlier records are read.
        while (skipped.length > 0 && (skipped[0]?.line ?? 0) < line) yield skipped.shift() as FileRow;
        if (!this.layout) {
          this.layout = csvLayout(
            this.o.header ? chunk.record.map((c) => c.trim()) : undefined,
            chunk.record.length,
            this.o.labelColumn,
            this.o.featureColumns,
            this.o.targetColumns,
            this.o.groupColumn,
          );
          if (this.o.header) continue;
        }
        yield { row: parseCsvCells(chunk.record, this.layout, this.spec), line, text: chunk.raw.replace(/\r?\n$/, '') };
      }
      yield* skipped.splice(0);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new Error(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`, {
        cause: err,
      });
    } finally {
      source.destroy();
      parser.destroy();
    }
  }

  features(): number | undefined {
    return this.layout?.features.length;
  }
}

/** JSONL options that shape parsing. */
export interface JsonlFormatOptions {
  readonly featuresField: string;
  readonly labelField: string;
  readonly taskField?: string | undefined;
  readonly targetField?: string | undefined;
  readonly groupField?: string | undefined;
  readonly features?: number | undefined;
  readonly labels?: readonly string[] | undefined;
  readonly numClasses?: number | undefined;
}

/** A JSONL {@link RowFormat}: one JSON object per line; the feature count is fixed by the option or the first valid record. */
export class JsonlFormat implements RowFormat {
  private length: number | undefined;
  private targetCount: number | undefined;
  private readonly fields: JsonFields;
  readonly spec: LabelSpec;
  readonly regression: boolean;

  constructor(o: JsonlFormatOptions) {
    this.length = o.features;
    this.fields = {
      features: o.featuresField,
      label: o.labelField,
      task: o.taskField,
      target: o.targetField,
      group: o.groupField,
    };
    this.spec = { labels: o.labels, numClasses: o.numClasses };
    this.regression = o.targetField !== undefined;
  }

  async *rows(file: string): AsyncGenerator<FileRow> {
    for await (const { text, line, tooLong } of fileLines(file)) {
      // A line over MAX_LINE_CHARS was dropped as it was read: a bad row, never parsed.
      if (tooLong !== undefined) {
        yield { row: { error: tooLongReason(tooLong) }, line, text: '' };
        continue;
      }
      if (text.trim() === '') continue;
      yield { row: this.parse(text), line, text };
    }
  }

  /** Parses one line (fixing the feature count on the first valid record). */
  parse(text: string): ParsedRow {
    const row = parseJsonLine(text, this.fields, this.length, this.spec, this.targetCount);
    if (!('error' in row)) {
      this.length ??= row.x.length;
      this.targetCount ??= row.t?.length;
    }
    return row;
  }

  features(): number | undefined {
    return this.length;
  }
}
