import { from, type Observable } from 'rxjs';
import type { DataSource, Experience, StreamInfo } from '@engram/core';
import type { LiveBatchSource } from './live-batch-source.js';

/** Hooks of a live feed: start producing into the source, and stop. */
export interface LiveFeed {
  /** Starts the producer; called once, when the experience is first subscribed. */
  start(): void;
  /** Stops the producer and releases files, sockets, timers. */
  stop(): Promise<void>;
  /**
   * Position in the feed for checkpoints: after the last sample the trainer pulled (e.g. a byte
   * offset, a generator state), JSON-serialisable. Feeds that cannot replay (sockets, stdin) omit it.
   */
  state?(): unknown;
  /** Restores what `state()` returned; called before `start()`. Throws on a malformed position. */
  restore?(state: unknown): void;
}

/**
 * A {@link DataSource} emitting one endless experience (StreamInfo.experiences = 'endless', the engine's
 * stream mode) whose training source is fed by a live producer. No test set: stream mode evaluates
 * prequentially.
 *
 * Checkpoints: `state()` is `{ delivered, feed }` — samples handed to the trainer so far and the
 * feed's position after the last of them. The engine calls `restore()` before subscribing to
 * `experiences()`; a replayable feed (`synthetic`, `jsonl-follow`) then continues exactly at the first
 * sample not yet trained on. Feeds that cannot replay (`http`, `jsonl-stdin`) only restore the count:
 * what they had received but not trained on is gone, and a resumed run trains on whatever arrives next —
 * unless they are given a `journal` (a `LiveJournal`, live-journal.ts): then their position is one in the journal,
 * and a resumed feed replays the journalled records not trained on before taking new input.
 */
export class LiveDataSource implements DataSource {
  private started = false;

  constructor(
    private readonly info: Omit<StreamInfo, 'experiences'>,
    readonly train: LiveBatchSource,
    private readonly feed: LiveFeed,
  ) {}

  async describe(): Promise<StreamInfo> {
    return { ...this.info, experiences: 'endless' };
  }

  experiences(): Observable<Experience> {
    if (!this.started) {
      this.started = true;
      this.feed.start();
    }
    // A regression feed has no classes (its outputs are target values).
    const classes = this.info.regression ? [] : Array.from({ length: this.info.numClasses }, (_, i) => i);
    return from([{ index: 0, name: this.info.scenario, classes, train: this.train }]);
  }

  state(): unknown {
    return { delivered: this.train.delivered, feed: this.feed.state?.() ?? null };
  }

  restore(state: unknown): void {
    const s = state as { delivered?: number; feed?: unknown } | null;
    if (s && typeof s.delivered === 'number') this.train.delivered = s.delivered;
    if (s && s.feed !== null && s.feed !== undefined) this.feed.restore?.(s.feed);
  }

  async close(): Promise<void> {
    await this.feed.stop();
    this.train.end();
  }
}
