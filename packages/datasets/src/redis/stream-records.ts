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

  /** Continues a checkpoint's count (called on restore, before the feed starts). */
  restoreCount(total: number): void {
    this.total = total;
    this.reported = total;
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
    await this.cmd
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
