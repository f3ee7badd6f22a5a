import type { Redis } from 'ioredis';
import type { EventSink } from '@engram/core';
import { parseLiveRecord, type liveRecordSpec } from '../live/live-options.js';
import type { ParsedRow } from '../data/row-parsers.js';
import type { RedisStreamOptions } from './redis-stream.options.js';
import { fieldsObject, fieldValue, type StreamEntry } from './stream-entries.js';

/** Longest record copied into the dead-letter stream, in characters. */
const DEAD_LETTER_DATA_CHARS = 100_000;

/**
 * Turns the entries of a Redis stream into training records, and sends the ones that cannot be
 * read (field missing, bad JSON, wrong shape, a string label without `labels`) to the dead-letter
 * stream with the reason, the original id and the raw record, atomically with their `XACK`
 * (`MULTI`): a bad record is never trained on and never read again. Keeps the running total of
 * dead letters, which checkpoints carry (a resumed run continues its count) and which is reported
 * as `badRecords["redis-stream <stream>"]` like every live source's refused records.
 */
export class StreamRecords {
  /** The stream receiving bad records: `deadLetter`, or `<stream>:dead-letter`. */
  readonly deadLetterKey: string;
  private total = 0;
  private reported = 0;
  /** Id of the last dead letter this consumer added (what a checkpoint's `deadLetterId` records). */
  private lastDeadLetter = '0-0';
  /** A restored checkpoint's `deadLetterId`: dead letters after it are counted once Redis is reachable. */
  private recountAfter: string | undefined;

  /**
   * @param cmd the feed's command connection (not the one blocked in `XREADGROUP`)
   * @param consumer this consumer's current name (it changes when a checkpoint is restored)
   */
  constructor(
    private readonly cmd: Redis,
    private readonly o: RedisStreamOptions,
    private readonly record: ReturnType<typeof liveRecordSpec>,
    private readonly events: EventSink,
    private readonly consumer: () => string,
  ) {
    this.deadLetterKey = o.deadLetter ?? `${o.stream}:dead-letter`;
  }

  /** Records sent to the dead-letter stream so far, including those counted by a restored checkpoint. */
  get deadLettered(): number {
    return this.total;
  }

  /** Id of the last dead letter this consumer added, `'0-0'` before the first (checkpoints keep it). */
  get deadLetterMark(): string {
    return this.lastDeadLetter;
  }

  /**
   * Continues a checkpoint's count (called on restore, before the feed starts). With the checkpoint's
   * `mark`, {@link recount} later adds the dead letters written after it.
   */
  restoreCount(total: number, mark?: string): void {
    this.total = total;
    this.reported = total;
    this.recountAfter = mark;
    if (mark !== undefined) this.lastDeadLetter = mark;
  }

  /**
   * After a restore: counts the dead letters this consumer added to the dead-letter stream after the
   * checkpoint's mark — written (and acknowledged, so never read again) by a process killed before its
   * next checkpoint — so `badRecords` equals what the dead-letter stream holds. Reports the new total.
   */
  async recount(): Promise<void> {
    const after = this.recountAfter;
    if (after === undefined) return;
    let from = `(${after}`;
    let added = 0;
    for (;;) {
      const page = await this.cmd.xrange(this.deadLetterKey, from, '+', 'COUNT', 1000);
      for (const [id, fields] of page) {
        const f = fieldsObject({ id, fields });
        if (f['stream'] === this.o.stream && f['group'] === this.o.group && f['consumer'] === this.consumer()) {
          added++;
          this.lastDeadLetter = id;
        }
      }
      if (page.length < 1000) break;
      from = `(${page[page.length - 1]?.[0] ?? ''}`;
    }
    this.recountAfter = undefined;
    this.total += added;
    this.reportGrowth();
  }

  /** The training record of entry `e`, or why it cannot be one. */
  parse(e: StreamEntry): ParsedRow {
    const raw = fieldValue(e, this.o.field);
    if (raw === undefined) return { error: `field "${this.o.field}" is missing` };
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      return { error: `bad JSON: ${(err as Error).message}` };
    }
    if (this.record.spec.labels === undefined && typeof value === 'object' && value !== null) {
      const label = (value as Record<string, unknown>)[this.o.labelField];
      if (typeof label === 'string')
        return { error: `label ${JSON.stringify(label).slice(0, 40)} is a string, expected a class index` };
    }
    return parseLiveRecord(value, this.record);
  }

  /**
   * Adds entry `e` to the dead-letter stream and acknowledges it, in one transaction. Warns for the
   * first 10 and then every 1,000th.
   */
  async deadLetter(e: StreamEntry, reason: string): Promise<void> {
    const data = fieldValue(e, this.o.field) ?? JSON.stringify(fieldsObject(e));
    const replies = await this.cmd
      .multi()
      .xadd(
        this.deadLetterKey,
        '*',
        'reason',
        reason,
        'id',
        e.id,
        'stream',
        this.o.stream,
        'group',
        this.o.group,
        'consumer',
        this.consumer(),
        'data',
        data.slice(0, DEAD_LETTER_DATA_CHARS),
      )
      .xack(this.o.stream, this.o.group, e.id)
      .exec();
    const added = replies?.[0]?.[1];
    if (typeof added === 'string') this.lastDeadLetter = added;
    this.total++;
    if (this.total <= 10 || this.total % 1000 === 0) {
      this.events.emit({
        type: 'warning',
        message: `redis-stream ${this.o.stream}: bad record ${e.id} sent to ${this.deadLetterKey}: ${reason} (${this.total} so far)`,
        badRecords: this.badRecords(),
      });
    }
  }

  /** Reports the total when it grew since the last report (called when a checkpoint is durable). */
  reportGrowth(): void {
    if (this.total <= this.reported) return;
    this.reported = this.total;
    this.events.emit({
      type: 'warning',
      message: `redis-stream ${this.o.stream}: ${this.total} bad record(s) sent to dead-letter stream ${this.deadLetterKey} in total`,
      badRecords: this.badRecords(),
    });
  }

  private badRecords(): { source: string; total: number } {
    return { source: `redis-stream ${this.o.stream}`, total: this.total };
  }
}
