import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, existsSync, fsync, openSync, type WriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Observable, Subscription } from 'rxjs';
import type { EngramEvent } from '../events/engram-event.js';
import { writeFileAtomic } from '../output/atomic-file.js';
import { ensureDirSync } from '../output/safe-dir.js';
import { accuracyMatrixCsv } from './accuracy-matrix-csv.js';
import type { JsonValue } from '../plugin-api/serialized-state.js';
import type { RunMeta, RunSummary } from './run-summary.js';
import { RunSummaryBuilder } from './run-summary-builder.js';

/** File names written into the run's output directory. */
export const RUN_FILES = {
  metrics: 'metrics.jsonl',
  summary: 'summary.json',
  accuracyMatrix: 'accuracy-matrix.csv',
} as const;

/** One event as a JSON line: `type`, `seq`, `time` first, then the event's own fields. */
export function eventToJsonLine(event: EngramEvent): string {
  const { type, seq, time, ...rest } = event;
  return `${JSON.stringify({ type, seq, time, ...rest })}\n`;
}

/**
 * Records a run into its output directory — an observer: it never influences training.
 *
 * `attach(events$)` (once, before the first event) creates `outDir` and `outDir/metrics.jsonl` and
 * appends every event as one JSON line, in `seq` order. `finish()` (after the run, whether it ended
 * or failed; idempotent) stops listening, flushes and closes the JSONL file, then writes
 * `summary.json` (a {@link RunSummary}) and `accuracy-matrix.csv`, each via a temp file + rename.
 *
 * An existing `metrics.jsonl` (a resumed run's history, or an overwritten run's) is never truncated:
 * the new one is written beside it as `metrics.jsonl.partial` and renamed over it, once fsynced, at
 * the first {@link RunRecorder.flush} (a checkpoint's mark) or at `finish()`. A process killed before
 * that leaves the old file whole, so the checkpoints that point into it stay resumable.
 * Peak RSS is sampled with `process.memoryUsage().rss` at every `experience-end` and `run-end`,
 * combined with the events' own `rssBytes`, and once more at `finish`.
 */
export class RunRecorder {
  private readonly builder = new RunSummaryBuilder();
  private stream: WriteStream | null = null;
  private subscription: Subscription | null = null;
  private writeError: Error | null = null;
  private finishing: Promise<RunSummary> | null = null;
  private bytesWritten = 0;
  private fd: number | null = null;
  private lastSeq = -1;
  /** The temp file the events go to until it replaces an existing metrics.jsonl (null: written in place). */
  private pending: string | null = null;
  private readonly outputs: Record<string, JsonValue> = {};
  /** Running sha256 of everything written to metrics.jsonl (checkpoints store it with their mark). */
  private readonly hash: Hash = createHash('sha256');

  constructor(
    private readonly outDir: string,
    private readonly meta: RunMeta,
  ) {}

  /** Subscribes to the run's events; call once, before the first event is emitted. */
  attach(events$: Observable<EngramEvent>): void {
    if (this.subscription !== null || this.finishing !== null)
      throw new Error('RunRecorder.attach: already attached or finished');
    ensureDirSync(this.outDir);
    const target = join(this.outDir, RUN_FILES.metrics);
    // A new file is created in place; an existing one is replaced only once its successor is on disk.
    this.pending = existsSync(target) ? `${target}.partial` : null;
    this.fd = openSync(this.pending ?? target, this.pending !== null ? 'w' : 'wx');
    const stream = createWriteStream('', { fd: this.fd, encoding: 'utf8' });
    stream.on('error', (err) => {
      this.writeError ??= err;
    });
    this.stream = stream;
    this.subscription = events$.subscribe({
      next: (event) => this.record(event),
      error: () => {
        /* the engine reports run failures itself; finish() still writes what was seen */
      },
    });
  }

  private record(event: EngramEvent): void {
    this.builder.add(event);
    if (event.type === 'experience-end' || event.type === 'run-end') this.builder.noteRss(process.memoryUsage().rss);
    if (this.writeError === null && this.stream) {
      const line = eventToJsonLine(event);
      this.stream.write(line);
      this.hash.update(line, 'utf8');
      this.bytesWritten += Buffer.byteLength(line);
      this.lastSeq = event.seq;
    }
  }

  /**
   * Waits until every event recorded so far is in `metrics.jsonl` and on disk (fsync); returns the
   * file's length, the last event's `seq` and the sha256 of the file's content at that point.
   * Checkpoints store these, so a resume reads the metric history back from `metrics.jsonl` instead of
   * every checkpoint carrying it, and can tell when it was changed since.
   */
  async flush(): Promise<{ bytes: number; seq: number; sha256: string }> {
    const stream = this.stream;
    const mark = { bytes: this.bytesWritten, seq: this.lastSeq, sha256: this.hash.copy().digest('hex') };
    if (stream === null || stream.destroyed) return mark;
    await new Promise<void>((resolve, reject) => stream.write('', (err) => (err ? reject(err) : resolve())));
    const fd = this.fd;
    if (fd !== null) await new Promise<void>((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
    await this.replace();
    return mark;
  }

  /** Renames `metrics.jsonl.partial` over `metrics.jsonl` (its content is on disk); once. */
  private async replace(): Promise<void> {
    const pending = this.pending;
    if (pending === null) return;
    this.pending = null;
    await rename(pending, join(this.outDir, RUN_FILES.metrics));
  }

  /** The summary of the events seen so far (no I/O). */
  summary(): RunSummary {
    return { ...this.builder.build(this.meta), outputs: { ...this.outputs } };
  }

  /** Records a named value for summary.json's `outputs` (a stage's result; see `RunOutputs`). */
  setOutput(name: string, value: JsonValue): void {
    this.outputs[name] = value;
  }

  /** Stops listening, flushes metrics.jsonl and writes summary.json and accuracy-matrix.csv. */
  finish(): Promise<RunSummary> {
    this.finishing ??= this.finishNow();
    return this.finishing;
  }

  private async finishNow(): Promise<RunSummary> {
    this.subscription?.unsubscribe();
    this.subscription = null;
    const stream = this.stream;
    const fd = this.fd;
    if (stream !== null && fd !== null && this.pending !== null && !stream.destroyed && this.writeError === null) {
      // the file replaces the old one: its content must be on disk first
      await new Promise<void>((resolve) => stream.write('', () => resolve()));
      await new Promise<void>((resolve) =>
        fsync(fd, (err) => {
          if (err) this.writeError ??= err;
          resolve();
        }),
      );
    }
    this.fd = null; // the stream closes it when it ends
    if (stream !== null) {
      await new Promise<void>((resolve) => {
        if (stream.destroyed) resolve();
        else stream.end(() => resolve());
        stream.once('error', () => resolve());
      });
    }
    if (this.writeError === null) await this.replace().catch((err: Error) => (this.writeError = err));
    if (this.writeError !== null)
      throw new Error(`could not write ${join(this.outDir, RUN_FILES.metrics)}: ${this.writeError.message}`);
    this.builder.noteRss(process.memoryUsage().rss);
    const summary = this.summary();
    ensureDirSync(this.outDir);
    await writeAtomic(join(this.outDir, RUN_FILES.summary), `${JSON.stringify(summary, null, 2)}\n`);
    await writeAtomic(
      join(this.outDir, RUN_FILES.accuracyMatrix),
      accuracyMatrixCsv(summary.accuracyMatrix, summary.initialAccuracy),
    );
    return summary;
  }
}

async function writeAtomic(path: string, text: string): Promise<void> {
  try {
    await writeFileAtomic(path, text);
  } catch (err) {
    throw new Error(`could not write ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
