import type { Redis } from 'ioredis';
import type { RedisTarget } from './redis-target.js';
import type { EventSink } from '@engram/core';
import type { LiveBatchSource } from '../live/live-batch-source.js';
import type { LiveFeed } from '../live/live-data-source.js';
import type { liveRecordSpec } from '../live/live-options.js';
import {
  closeRedis,
  connectRedis,
  isReplyError,
  openRedis,
  redactUrl,
  retryWhileDisconnected,
} from './redis-connection.js';
import { parsePosition, type RedisStreamOptions, type RedisStreamPosition } from './redis-stream.options.js';
import { StreamLedger } from './stream-ledger.js';
import { autoClaimReply, readGroupEntries, type StreamEntry } from './stream-entries.js';
import { StreamRecords } from './stream-records.js';
import { acknowledgeAll, ensureGroup, touchPending, type GroupAddress } from './consumer-group.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ignore = (): void => undefined;

/** The outcome of one `XREADGROUP`, settled either way so a read asked for ahead never rejects unobserved. */
type ReadResult = { readonly entries: StreamEntry[] } | { readonly error: unknown };

/**
 * Reads a Redis stream through a consumer group into a {@link LiveBatchSource}, exactly once across
 * crashes when checkpoints are durable:
 *
 * - Reading: `XREADGROUP … >` for `count` entries at a time. While a backlog is read (the last reply
 *   was full), up to `readAhead` further reads are sent before the entries in hand are queued, so their
 *   replies travel and are decoded while training runs instead of after the buffer ran dry. The
 *   queue's `block` policy pauses the loop while the buffer is full and no read is sent meanwhile, so
 *   a consumer holds at most `buffer + (1 + readAhead) × count` entries however fast producers are
 *   (the rest stays in Redis). A reply's entries are queued in one synchronous pass (awaiting only a
 *   full buffer), so the trainer wakes once per reply rather than once per entry.
 * - Acknowledging: an entry is `XACK`ed only in {@link acknowledge}, which the engine calls once a
 *   checkpoint covering it is durable. Each queued entry gets an ordinal; `state()` lists the ids of the
 *   entries the trainer has pulled and that are not acknowledged yet (`unacked`).
 * - Resuming: a restored run acknowledges the checkpoint's `unacked` (trained, only the ack was lost),
 *   then re-reads its consumer's pending entries (`XREADGROUP … 0`): what is left there was delivered
 *   but not trained, and is trained now, in id order, before new entries.
 * - Dead consumers: entries pending longer than `claimIdleMs` with another consumer of the group are
 *   claimed (`XAUTOCLAIM`); a timer refreshes this consumer's own unacknowledged entries (`XCLAIM …
 *   JUSTID`) so live consumers waiting for a checkpoint are never robbed.
 * - Bad records go to the dead-letter stream with the reason and original id, atomically with their
 *   `XACK` (`MULTI`); they never reach the trainer.
 * - A lost connection is reported once as a warning; both connections reconnect with backoff and the
 *   consumer re-reads its pending entries, so entries whose reply was lost in flight are not lost.
 */
export class RedisStreamFeed implements LiveFeed {
  private readonly reader: Redis;
  private readonly cmd: Redis;
  /** The group's commands go on `cmd`, never on the reader blocked in `XREADGROUP`. */
  private readonly group: GroupAddress;
  /** Parses entries and dead-letters the bad ones. */
  private readonly records: StreamRecords;
  /** Ids queued for the trainer and not acknowledged; each sample's cursor is its id's ordinal. */
  private readonly ledger = new StreamLedger();
  private consumer: string;
  private restored: RedisStreamPosition | undefined;
  private lastId: string | null = null;
  private stopped = false;
  private down = false;
  private rescan = true;
  private lastClaim = 0;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly o: RedisStreamOptions & { readonly consumer: string },
    private readonly url: string,
    private readonly train: LiveBatchSource,
    record: ReturnType<typeof liveRecordSpec>,
    private readonly events: EventSink,
    private readonly consumerGiven: boolean,
    target: RedisTarget = { url },
  ) {
    this.consumer = o.consumer;
    const connection = {
      onLost: (why: string) => this.lost(why),
      onBack: () => this.back(),
      onFatal: (why: string) => this.fatal(why),
      maxBackoffMs: 2000,
    };
    this.reader = openRedis(target, { ...connection, name: 'engram-redis-stream-reader' });
    this.cmd = openRedis(target, { ...connection, name: 'engram-redis-stream' });
    this.group = { redis: this.cmd, stream: o.stream, group: o.group };
    this.records = new StreamRecords(this.cmd, o, record, events, () => this.consumer);
  }

  /** The consumer name in use (the checkpoint's after a resume, unless one is configured). */
  get consumerName(): string {
    return this.consumer;
  }

  start(): void {
    this.train.caughtUp = false;
    this.run().catch((err: unknown) => {
      if (!this.stopped) this.train.end(new Error(`redis-stream ${this.o.stream}: ${(err as Error).message}`));
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    closeRedis(this.reader);
    closeRedis(this.cmd);
  }

  state(): RedisStreamPosition {
    const pulled = typeof this.train.cursor === 'number' ? this.train.cursor : this.ledger.firstOrdinal - 1;
    const trained = this.ledger.through(pulled);
    const carried = this.restored?.unacked ?? [];
    return {
      consumer: this.consumer,
      lastId: trained[trained.length - 1] ?? this.lastId,
      unacked: [...carried, ...trained],
      deadLettered: this.records.deadLettered,
      deadLetterId: this.records.deadLetterMark,
    };
  }

  restore(s: unknown): void {
    const p = parsePosition(s, `redis-stream ${this.o.stream}`);
    this.restored = p;
    this.lastId = p.lastId;
    if (!this.consumerGiven) this.consumer = p.consumer;
    // dead letters are counted by the consumer that wrote them: only the checkpoint's own can be recounted
    this.records.restoreCount(p.deadLettered, this.consumer === p.consumer ? p.deadLetterId : undefined);
  }

  /**
   * Acknowledges the entries a durable checkpoint covers (`position.unacked`). While Redis is
   * unreachable the acknowledgement is deferred: the ids stay unacknowledged and are listed again by
   * the next checkpoint. Also reports the dead-letter total when it grew since the last checkpoint.
   */
  async acknowledge(position: unknown): Promise<void> {
    const p = parsePosition(position, `redis-stream ${this.o.stream}`);
    this.records.reportGrowth();
    if (p.unacked.length === 0 || this.cmd.status !== 'ready') return;
    try {
      await acknowledgeAll(this.group, p.unacked);
    } catch (e) {
      if (isReplyError(e)) throw e;
      return; // connection lost meanwhile: the next checkpoint lists these ids again
    }
    if (this.restored) {
      const done = new Set(p.unacked);
      if (this.restored.unacked.every((id) => done.has(id))) this.restored = undefined;
    }
    const last = this.ledger.acknowledge(p.unacked);
    if (last !== undefined) this.lastId = last;
  }

  private async run(): Promise<void> {
    await Promise.all([connectRedis(this.reader), connectRedis(this.cmd)]);
    await this.retrying(() => ensureGroup(this.group, this.o.start));
    const restored = this.restored;
    if (restored) {
      await this.retrying(() => acknowledgeAll(this.group, restored.unacked));
      this.restored = undefined;
    }
    await this.retrying(() => this.records.recount());
    const every = this.o.claimIdleMs > 0 ? Math.max(100, Math.floor(this.o.claimIdleMs / 3)) : 20_000;
    this.heartbeat = setInterval(() => void this.touchOwn(), every);
    this.heartbeat.unref();
    // Reads sent ahead, oldest first; every one is awaited and its entries queued, in order.
    const ahead: Array<Promise<ReadResult>> = [];
    while (!this.stopped) {
      try {
        if (this.rescan) {
          await this.readPending();
          this.rescan = false;
        }
        if (ahead.length === 0 && this.claimDue()) await this.claimIdle();
        const reply = await (ahead.shift() ?? this.readNew());
        if ('error' in reply) throw reply.error;
        const entries = reply.entries;
        if (entries.length === 0) {
          this.train.caughtUp = true;
          continue;
        }
        this.train.caughtUp = false;
        const full = entries.length >= this.o.count;
        // A backlog: ask for the next entries now, so they arrive while these are trained on.
        if (full && !this.claimDue()) while (ahead.length < this.o.readAhead) ahead.push(this.readNew());
        await this.deliverAll(entries);
        if (!full) this.train.caughtUp = true;
      } catch (e) {
        // Reads still in flight are dropped unseen: their entries are in this consumer's pending list,
        // which the rescan below re-reads (on the same connection, so after them).
        ahead.length = 0;
        this.ledger.dedupeForGood();
        if (this.stopped) return;
        if (isReplyError(e) && !/NOGROUP/.test((e as Error).message)) throw e;
        // Lost connection (or a server restarted without its data): re-create the group if needed and
        // re-read the pending entries, which may hold replies lost in flight.
        this.rescan = true;
        await sleep(50);
        await this.retrying(() => ensureGroup(this.group, this.o.start));
      }
    }
  }

  /** Whether dead consumers' entries are due to be looked for (`claimIdleMs / 2` since the last look). */
  private claimDue(): boolean {
    return this.o.claimIdleMs > 0 && Date.now() - this.lastClaim >= this.o.claimIdleMs / 2;
  }

  /** One `XREADGROUP … >` for new entries; its outcome, never a rejection. */
  private readNew(): Promise<ReadResult> {
    return this.reader
      .call(
        'XREADGROUP',
        'GROUP',
        this.o.group,
        this.consumer,
        'COUNT',
        this.o.count,
        'BLOCK',
        this.o.blockMs,
        'STREAMS',
        this.o.stream,
        '>',
      )
      .then(
        (reply) => ({ entries: readGroupEntries(reply) }),
        (error: unknown) => ({ error }),
      );
  }

  /** Runs `op` until it succeeds, waiting out connection losses (server errors are rethrown). */
  private retrying(op: () => Promise<unknown>): Promise<void> {
    return retryWhileDisconnected(op, () => this.stopped);
  }

  /** Re-reads this consumer's pending entries from the start; those already queued are skipped. */
  private async readPending(): Promise<void> {
    this.ledger.startDedupe();
    try {
      await this.readPendingPages();
    } finally {
      this.ledger.endDedupe();
    }
  }

  private async readPendingPages(): Promise<void> {
    let from = '0';
    while (!this.stopped) {
      const reply = await this.reader.call(
        'XREADGROUP',
        'GROUP',
        this.o.group,
        this.consumer,
        'COUNT',
        this.o.count,
        'STREAMS',
        this.o.stream,
        from,
      );
      const entries = readGroupEntries(reply);
      if (entries.length === 0) return;
      this.train.caughtUp = false;
      await this.deliverAll(entries);
      from = (entries[entries.length - 1] as StreamEntry).id;
    }
  }

  /** Claims entries idle for `claimIdleMs` with other (dead) consumers of the group. */
  private async claimIdle(): Promise<void> {
    this.lastClaim = Date.now();
    let cursor = '0-0';
    let claimed = 0;
    this.ledger.startDedupe();
    try {
      do {
        const { next, entries } = autoClaimReply(
          await this.cmd.call(
            'XAUTOCLAIM',
            this.o.stream,
            this.o.group,
            this.consumer,
            this.o.claimIdleMs,
            cursor,
            'COUNT',
            this.o.count,
          ),
        );
        const fresh = entries.filter((e) => !this.ledger.has(e.id));
        if (fresh.length > 0) this.train.caughtUp = false;
        await this.deliverAll(fresh);
        claimed += fresh.length;
        cursor = next;
      } while (cursor !== '0-0' && !this.stopped);
    } finally {
      this.ledger.endDedupe();
    }
    if (claimed > 0) {
      this.events.emit({
        type: 'warning',
        message:
          `redis-stream ${this.o.stream}: claimed ${claimed} entr${claimed === 1 ? 'y' : 'ies'} pending over ` +
          `${this.o.claimIdleMs} ms with another consumer of group ${this.o.group}`,
      });
    }
  }

  /** Resets the idle time of this consumer's unacknowledged entries so other consumers do not claim them. */
  private async touchOwn(): Promise<void> {
    if (this.stopped || this.cmd.status !== 'ready' || this.ledger.empty) return;
    const ids = this.ledger.unacked();
    try {
      await touchPending(this.group, this.consumer, ids);
    } catch {
      // a lost connection is reported by the reader; the next beat tries again
    }
  }

  /**
   * Queues the entries of one reply for the trainer, in order, skipping those already queued; bad ones
   * go to the dead-letter stream. Runs synchronously while the buffer has room (no await per entry, so
   * the trainer is not woken and put back to sleep for each one) and waits only for a full buffer or a
   * dead-letter write.
   */
  private async deliverAll(entries: readonly StreamEntry[]): Promise<void> {
    const queue = this.train.queue;
    for (const e of entries) {
      if (this.stopped) return;
      if (this.ledger.has(e.id)) continue;
      if (e.fields === null) {
        await this.cmd.xack(this.o.stream, this.o.group, e.id);
        this.events.emit({
          type: 'warning',
          message: `redis-stream ${this.o.stream}: entry ${e.id} was deleted from the stream before it was trained on`,
        });
        continue;
      }
      const row = this.records.parse(e);
      if ('error' in row) {
        await this.records.deadLetter(e, row.error);
        continue;
      }
      const cursor = this.ledger.append(e.id);
      // a regression stream's records carry their targets (`t`)
      const sample = {
        x: row.x,
        y: row.y,
        ...(row.task === undefined ? {} : { task: row.task }),
        ...(row.t === undefined ? {} : { t: row.t }),
        cursor,
      };
      // With room in the buffer the push completes now (a closed buffer means the run is over).
      if (queue.length < queue.capacity) this.train.push(sample).catch(ignore);
      else await this.train.push(sample);
    }
  }

  /** Both connections are ready again: the next loss is a new outage. */
  private back(): void {
    if (this.reader.status === 'ready' && this.cmd.status === 'ready') this.down = false;
  }

  /**
   * Redis refused this consumer's credentials on a reconnection (the password or ACL changed while
   * connected): waiting cannot help, the URL is read once. The run stops with that one line as its
   * error; the entries it pulled and did not checkpoint stay pending in the group, so `--resume` with
   * the new credentials trains each of them exactly once.
   */
  private fatal(why: string): void {
    if (this.stopped) return;
    this.train.end(new Error(`redis-stream ${this.o.stream}: ${why}`));
    void this.stop();
  }

  private lost(why: string): void {
    if (this.down || this.stopped) return;
    this.down = true;
    this.events.emit({
      type: 'warning',
      message:
        `redis-stream ${this.o.stream}: connection to ${redactUrl(this.url)} lost (${why}); reconnecting with ` +
        `backoff, no entry is lost`,
    });
  }
}
