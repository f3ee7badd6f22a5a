import { csvLayout, parseCsvRow, parseJsonLine, splitCsv, type CsvLayout, type JsonFields, type LabelSpec, type ParsedRow } from '../data/row-parsers.js';

/** How the lines of a row-per-line file (CSV, JSONL) become samples. */
export interface RowFormat {
  /** Sees the file's first line before any data; returns true if that line is a header (not data). */
  begin(first: string): boolean;
  /** Parses one data line. */
  parse(text: string): ParsedRow;
  /** Features per sample once known (after `begin` for CSV, after the first valid record for JSONL). */
  features(): number | undefined;
  /** Labels spec (for numClasses). */
  readonly spec: LabelSpec;
}

/** CSV options that shape parsing. */
export interface CsvFormatOptions {
  readonly header: boolean;
  readonly delimiter: string;
  readonly labelColumn?: string | number | undefined;
  readonly featureColumns?: readonly (string | number)[] | undefined;
  readonly labels?: readonly string[] | undefined;
  readonly numClasses?: number | undefined;
}

/** A CSV {@link RowFormat}: header, label column, feature columns, delimiter. */
export class CsvFormat implements RowFormat {
  private layout: CsvLayout | undefined;
  readonly spec: LabelSpec;

  constructor(private readonly o: CsvFormatOptions) {
    this.spec = { labels: o.labels, numClasses: o.numClasses };
  }

  begin(first: string): boolean {
    const cells = splitCsv(first, this.o.delimiter);
    this.layout = csvLayout(this.o.header ? cells.map((c) => c.trim()) : undefined, cells.length, this.o.labelColumn, this.o.featureColumns);
    return this.o.header;
  }

  parse(text: string): ParsedRow {
    if (!this.layout) throw new Error('CsvFormat.begin was not called');
    return parseCsvRow(text, this.o.delimiter, this.layout, this.spec);
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
  readonly features?: number | undefined;
  readonly labels?: readonly string[] | undefined;
  readonly numClasses?: number | undefined;
}

/** A JSONL {@link RowFormat}: one JSON object per line; the feature count is fixed by the option or the first valid record. */
export class JsonlFormat implements RowFormat {
  private length: number | undefined;
  private readonly fields: JsonFields;
  readonly spec: LabelSpec;

  constructor(o: JsonlFormatOptions) {
    this.length = o.features;
    this.fields = { features: o.featuresField, label: o.labelField, task: o.taskField };
    this.spec = { labels: o.labels, numClasses: o.numClasses };
  }

  begin(): boolean {
    return false;
  }

  parse(text: string): ParsedRow {
    const row = parseJsonLine(text, this.fields, this.length, this.spec);
    if (!('error' in row) && this.length === undefined) this.length = row.x.length;
    return row;
  }

  features(): number | undefined {
    return this.length;
  }
}
