import { closeSync, existsSync, openSync, readSync, renameSync, statSync } from 'node:fs';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { Type, type ComponentServices } from '@engram/core';
import type { LiveBatchSource, Sample } from './live-batch-source.js';
import { LiveBadLines } from './live-options.js';
import { checkRecordLine, type RecordContract } from './record-check.js';

/** The `journal` option of the live sources that cannot replay their input (`http`, `jsonl-stdin`). */
export const journalOption = Type.Optional(
  Type.String({
    minLength: 1,
    description:
      'Durable journal (JSON lines, relative to the pipeline file): every accepted record is appended and fsynced ' +
      'before it is acknowledged or trained on, and --resume replays the records not yet trained on. A run without ' +
      '--resume moves an existing journal to <journal>.prev and starts a new one. The journal is never rotated: ' +
      'it grows with the stream.',
  }),
);

/** Where a journalled feed resumes: byte offset of the first record not trained on, and the records before it. */
export interface JournalPosition {
  readonly offset: number;
  readonly line: number;
}

/** The journal line of a sample: features as float32 values (they round-trip exactly), class index, task, targets. */
function journalLine(s: Sample): string {
  const task = s.task !== undefined ? { task: s.task } : {};
  return `${JSON.stringify({ x: Array.from(s.x), y: s.y, ...task, ...(s.t ? { t: Array.from(s.t) } : {}) })}\n`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A write-ahead journal in front of a {@link LiveBatchSource}, for feeds whose input cannot be read
 * again (a socket, stdin). `commit()` appends a group of accepted records as JSON lines, `fsync`s the
 * file, and only then pushes the samples, each carrying the cursor `{ offset, line }` of the journal
 * right after its line; the trainer's `cursor` (saved by checkpoints) is therefore always a position
 * in the journal before which everything has been trained on.
 *
 * `restore()` takes a saved position (checked at once: shape, journal length, line boundary);
 * `open()` then truncates a torn last line (a crash mid-write; reported as a warning), replays the
 * records from the position to the end of the journal into the buffer, in order and without drops
 * whatever the overflow policy, and appends new records after them. Without a restored position an
 * existing journal belongs to an earlier run: it is moved to `<journal>.prev` (warning) and a new one
 * is started. Commits are serialised, so the buffer receives records in journal order.
 *
 * Limit: the journal is never rotated or compacted; it grows by one line per accepted record.
 */
export class LiveJournal {
  readonly file: string;
  private handle: FileHandle | undefined;
  private from: JournalPosition | undefined;
  private end: JournalPosition = { offset: 0, line: 0 };
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Journal lines that could not be replayed (skipped with a warning) in this run. */
  readonly skipped: LiveBadLines;

  constructor(
    path: string,
    private readonly kind: string,
    private readonly train: LiveBatchSource,
    private readonly r: { length: number; numClasses: number; task: boolean; targets?: number | undefined },
    private readonly services: ComponentServices,
  ) {
    this.file = resolve(services.baseDir, path);
    this.skipped = new LiveBadLines(`${kind} journal ${this.file}`, services.events);
  }

  /** Position for checkpoints: after the last record trained on (the journal's start before any). */
  state(): JournalPosition {
    return (this.train.cursor as JournalPosition | undefined) ?? this.from ?? { offset: 0, line: 0 };
  }

  /** Checks and keeps a saved position; called before `open()`. Throws a one-line error on a bad one. */
  restore(state: unknown): void {
    const p = state as Partial<JournalPosition> | null;
    const whole = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
    const where = `${this.kind} journal ${this.file}`;
    if (!p || typeof p !== 'object' || !whole(p.offset) || !whole(p.line)) {
      throw new Error(
        `${where}: a checkpoint position must be { offset, line } (byte offset, line number), got ${JSON.stringify(state)}`,
      );
    }
    const size = existsSync(this.file) ? statSync(this.file).size : -1;
    if (size < p.offset) {
      throw new Error(
        `${where} is ${size < 0 ? 'missing' : `${size} bytes`}, shorter than the checkpoint's position ${p.offset}: ` +
          `it was deleted, truncated or replaced since`,
      );
    }
    if (p.offset > 0) {
      const fd = openSync(this.file, 'r');
      const byte = Buffer.alloc(1);
      try {
        readSync(fd, byte, 0, 1, p.offset - 1);
      } finally {
        closeSync(fd);
      }
      if (byte[0] !== 0x0a)
        throw new Error(
          `${where}: the checkpoint's position ${p.offset} is not at the start of a line; the journal belongs to another run`,
        );
    }
    this.from = { offset: p.offset, line: p.line };
  }

  /**
   * Opens the journal and replays what was received but not trained on; commits made meanwhile wait
   * for the replay, so live records follow the replayed ones.
   */
  open(): Promise<void> {
    const opened = this.opening();
    this.tail = opened.catch(() => undefined);
    return opened;
  }

  private async opening(): Promise<void> {
    if (!this.from && existsSync(this.file) && statSync(this.file).size > 0) {
      renameSync(this.file, `${this.file}.prev`);
      this.services.events.emit({
        type: 'warning',
        message:
          `${this.kind}: journal ${this.file} is from an earlier run (not resumed); moved it to ` +
          `${this.file}.prev and started a new one`,
      });
    }
    this.handle = await this.openFile(this.from ? 'r+' : 'w');
    if (this.from) await this.replay(this.from);
  }

  /** Opens the journal file; a missing folder is created (one level), any failure is one line naming it. */
  private async openFile(flags: 'r+' | 'w'): Promise<FileHandle> {
    const why = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    try {
      return await open(this.file, flags);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || flags !== 'w')
        throw new Error(`${this.kind}: cannot open journal ${this.file}: ${why(e)}`, { cause: e });
    }
    const folder = dirname(this.file);
    try {
      await mkdir(folder);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new Error(
          `${this.kind}: cannot create the journal's folder ${folder}: ${why(e)}${why(e) === 'ENOENT' ? ' (its parent folder does not exist either)' : ''}`,
          { cause: e },
        );
    }
    try {
      return await open(this.file, flags);
    } catch (e) {
      throw new Error(`${this.kind}: cannot open journal ${this.file}: ${why(e)}`, { cause: e });
    }
  }

  /**
   * Appends `samples` (one write, one fsync), then pushes them with their cursors. Resolves once they are
   * durable and queued; commits run one after another, in call order.
   */
  commit(samples: readonly Sample[]): Promise<void> {
    const run = this.tail.then(async () => {
      const handle = this.handle;
      if (!handle || this.closed) throw new Error(`${this.kind} journal ${this.file} is closed`);
      let { offset, line } = this.end;
      const withCursors = samples.map((s) => {
        const text = journalLine(s);
        offset += Buffer.byteLength(text, 'utf8');
        line++;
        return { text, sample: { ...s, cursor: { offset, line } satisfies JournalPosition } };
      });
      await handle.write(withCursors.map((w) => w.text).join(''), this.end.offset);
      await handle.sync();
      this.end = { offset, line };
      for (const w of withCursors) await this.train.push(w.sample);
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Closes the file; commits not yet written fail (their records were not acknowledged). */
  async close(): Promise<void> {
    this.closed = true;
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
  }

  /** The record layout of journal lines: `{"x":[...],"y":k}` (`"task"` when the feed has tasks, `"t"` its regression targets). */
  private contract(): RecordContract {
    return {
      inputShape: [this.r.length],
      numClasses: this.r.numClasses,
      features: 'x',
      label: 'y',
      task: this.r.task ? 'task' : undefined,
      ...(this.r.targets !== undefined ? { target: 't', targetCount: this.r.targets } : {}),
    };
  }

  /** Reads the journal from `from` to its end into the buffer; truncates a torn last line. */
  private async replay(from: JournalPosition): Promise<void> {
    const handle = this.handle as FileHandle;
    const buf = Buffer.alloc(64 * 1024);
    const decoder = new StringDecoder('utf8');
    let position = from.offset;
    let lineStart = from.offset;
    let line = from.line;
    let carry = '';
    this.train.caughtUp = false;
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      carry += decoder.write(buf.subarray(0, bytesRead));
      for (let nl = carry.indexOf('\n'); nl >= 0 && !this.closed; nl = carry.indexOf('\n')) {
        const text = carry.slice(0, nl);
        carry = carry.slice(nl + 1);
        lineStart += Buffer.byteLength(text, 'utf8') + 1;
        line++;
        // A line that cannot be replayed (damaged, or journalled by an older version without the door checks) is skipped, counted.
        const row = checkRecordLine(text, this.contract());
        if (typeof row === 'string') {
          this.skipped.add(line, row);
          continue;
        }
        // Replayed records were acknowledged: wait for room instead of letting the overflow policy drop them.
        while (
          this.train.queue.policy !== 'block' &&
          this.train.queue.length >= this.train.queue.capacity &&
          !this.closed
        )
          await sleep(5);
        await this.train.push({ ...row, cursor: { offset: lineStart, line } satisfies JournalPosition });
      }
      if (this.closed) return;
    }
    if (lineStart < position) {
      await handle.truncate(lineStart);
      this.services.events.emit({
        type: 'warning',
        message:
          `${this.kind}: journal ${this.file} ended in a torn line (${position - lineStart} bytes, a crash ` +
          `mid-write); truncated it at byte ${lineStart}`,
      });
    }
    this.end = { offset: lineStart, line };
    this.train.caughtUp = true;
  }
}
