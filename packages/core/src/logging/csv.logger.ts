import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import type { Observable, Subscription } from 'rxjs';
import type { EngramEvent } from '../events/engram-event.js';
import type { RunLogger } from '../plugin-api/run-logger.js';

/** Options of the `csv` logger. */
export const CsvOptions = Type.Object(
  {
    dir: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Directory of the CSV files (relative paths: under the run output directory). Default "<out>/csv".',
      }),
    ),
  },
  { additionalProperties: false },
);
export type CsvOptions = Static<typeof CsvOptions>;

/**
 * Columns after `seq,time` per event type (optional fields get empty cells when absent). A regression
 * run's error figures (`epochMae`, `mae`, `rmse`, the prequential MAE/RMSE) are the last columns, so
 * the earlier columns keep their positions.
 */
export const CSV_COLUMNS: Readonly<Record<EngramEvent['type'], readonly string[]>> = {
  'run-start': [
    'name',
    'seed',
    'backend',
    'mode',
    'experiences',
    'scenario',
    'strategies',
    'inputShape',
    'numClasses',
    'parameters',
    'continuedFrom',
  ],
  'experience-start': ['experience', 'classes', 'task', 'trainSize', 'step'],
  'epoch-start': ['experience', 'epoch', 'epochs'],
  'batch-end': [
    'experience',
    'epoch',
    'batch',
    'batches',
    'step',
    'size',
    'loss',
    'penalty',
    'accuracy',
    'epochLoss',
    'epochAccuracy',
    'samplesPerSecond',
    'epochMae',
  ],
  'epoch-end': ['experience', 'epoch', 'loss', 'accuracy', 'mae'],
  'experience-end': ['experience', 'samples', 'wallSeconds', 'rssBytes'],
  evaluation: ['afterExperience', 'experience', 'accuracy', 'loss', 'count', 'mae', 'rmse'],
  prequential: [
    'step',
    'samples',
    'accuracy',
    'windowAccuracy',
    'fadingAccuracy',
    'loss',
    'mae',
    'windowMae',
    'fadingMae',
    'rmse',
    'windowRmse',
  ],
  boundary: ['step', 'reason'],
  checkpoint: ['path', 'step', 'bytes', 'seconds'],
  dropped: ['source', 'count', 'total'],
  'poisoned-batch': ['experience', 'step', 'loss', 'records'],
  warning: ['message', 'badRecords', 'skippedRows'],
  'version-promoted': ['version', 'step', 'experience', 'previous', 'reason', 'checks'],
  'version-rejected': ['version', 'step', 'experience', 'served', 'check', 'message', 'checks'],
  'run-end': ['wallSeconds', 'samplesPerSecond', 'steps', 'status', 'stopped', 'error'],
};

/** One CSV cell: numbers and strings as they are (quoted when needed), arrays and objects as JSON. */
function cell(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s = typeof v === 'number' || typeof v === 'boolean' ? String(v) : typeof v === 'string' ? v : JSON.stringify(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** `seq` of the last complete line of a CSV file written by this logger; -1 when none. */
function lastSeq(file: string): number {
  if (!existsSync(file)) return -1;
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.pop(); // the text after the last newline: empty, or a line cut off by a crash
  for (let i = lines.length - 1; i >= 1; i--) {
    const seq = Number(lines[i]?.split(',', 1)[0]);
    if (Number.isInteger(seq)) return seq;
  }
  return -1;
}

/**
 * Writes one CSV file per event type, `<dir>/<type>.csv` (role `logger`, kind `csv`): columns
 * `seq,time` then {@link CSV_COLUMNS}; an evaluation gives one row per evaluated experience. The
 * header is written when the file is created; rows are appended as events arrive.
 *
 * Resume: a run's events carry `seq` numbers that continue after a resume from where the checkpoint's
 * metrics end, so on attach the logger reads the last `seq` of each file and skips events at or
 * below it: no row is written twice. A line cut off by a crash is ended and left as it is.
 */
export class CsvLogger implements RunLogger {
  private subscription: Subscription | undefined;
  private readonly after = new Map<string, number>();
  private dir = '';

  constructor(private readonly o: CsvOptions) {}

  attach(events$: Observable<EngramEvent>, outputDir: string): void {
    this.dir = resolve(outputDir, this.o.dir ?? 'csv');
    mkdirSync(this.dir, { recursive: true });
    for (const type of Object.keys(CSV_COLUMNS)) {
      const file = join(this.dir, `${type}.csv`);
      this.after.set(type, lastSeq(file));
      if (existsSync(file) && !readFileSync(file, 'utf8').endsWith('\n')) appendFileSync(file, '\n');
    }
    this.subscription = events$.subscribe((e) => this.onEvent(e));
  }

  /** Stops listening (rows are appended as they come, nothing is buffered). */
  close(): Promise<void> {
    this.subscription?.unsubscribe();
    return Promise.resolve();
  }

  private onEvent(e: EngramEvent): void {
    if (e.seq <= (this.after.get(e.type) ?? -1)) return;
    const columns = CSV_COLUMNS[e.type];
    const file = join(this.dir, `${e.type}.csv`);
    const fields = e as unknown as Record<string, unknown>;
    const rows =
      e.type === 'evaluation'
        ? e.results.map((r) => [
            e.seq,
            e.time,
            e.afterExperience,
            r.experience,
            r.accuracy,
            r.loss,
            r.count,
            r.mae,
            r.rmse,
          ])
        : [[e.seq, e.time, ...columns.map((c) => fields[c])]];
    const text = rows.map((r) => `${r.map(cell).join(',')}\n`).join('');
    appendFileSync(file, existsSync(file) ? text : `${['seq', 'time', ...columns].join(',')}\n${text}`);
  }
}
