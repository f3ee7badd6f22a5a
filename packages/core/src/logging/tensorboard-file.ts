import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { decodeEvent, encodeEvent, type TensorBoardEvent } from './tensorboard-proto.js';
import { frameRecord, readRecords } from './tfrecord.js';

/** What earlier event files in a directory hold: the last step per tag and every scalar written. */
export interface WrittenEvents {
  /** Highest step written per tag. */
  readonly lastStep: Map<string, number>;
  /** Every scalar, in file order: `{ step, tag, value }`. */
  readonly scalars: { step: number; tag: string; value: number }[];
}

/** Event files of `dir` (names containing `tfevents`), sorted by name as TensorBoard reads them. */
export function eventFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.includes('tfevents'))
    .sort()
    .map((n) => join(dir, n));
}

/** Reads the events of every event file in `dir` (CRCs checked; a truncated last record is ignored). */
export function readEventFiles(dir: string): TensorBoardEvent[] {
  return eventFiles(dir).flatMap((f) => readRecords(readFileSync(f), f).map((r) => decodeEvent(r)));
}

/** Summarises {@link readEventFiles}: what a resumed run must not write again. */
export function writtenEvents(dir: string): WrittenEvents {
  const lastStep = new Map<string, number>();
  const scalars: WrittenEvents['scalars'] = [];
  for (const e of readEventFiles(dir))
    for (const v of e.summary?.value ?? []) {
      lastStep.set(v.tag, Math.max(lastStep.get(v.tag) ?? -Infinity, e.step ?? 0));
      if (v.simpleValue !== undefined) scalars.push({ step: e.step ?? 0, tag: v.tag, value: v.simpleValue });
    }
  return { lastStep, scalars };
}

/**
 * One new event file `events.out.tfevents.<unix seconds>.<host>` in `dir` (a numeric suffix when that
 * name exists), opened for appending only; its first record is `file_version: "brain.Event:2"`.
 */
export class EventFileWriter {
  readonly path: string;
  private readonly pending: Buffer[] = [];

  constructor(dir: string) {
    const base = join(dir, `events.out.tfevents.${Math.floor(Date.now() / 1000)}.${hostname()}`);
    let path = base;
    for (let i = 1; existsSync(path); i++) path = `${base}.${i}`;
    this.path = path;
    this.pending.push(frameRecord(encodeEvent({ wallTime: Date.now() / 1000, step: 0, fileVersion: 'brain.Event:2' })));
    this.flush();
  }

  /** Queues one event (written by the next {@link flush}). */
  add(event: TensorBoardEvent): void {
    this.pending.push(frameRecord(encodeEvent(event)));
  }

  /** How many events wait for {@link flush}. */
  get queued(): number {
    return this.pending.length;
  }

  /** Appends the queued events to the file (never truncates). */
  flush(): void {
    if (this.pending.length === 0) return;
    appendFileSync(this.path, Buffer.concat(this.pending.splice(0)));
  }
}
