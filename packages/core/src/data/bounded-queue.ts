/** What a {@link BoundedQueue} does when a producer pushes into a full buffer. */
export type OverflowPolicy = 'block' | 'drop-oldest' | 'sample';

/**
 * A bounded FIFO between a push-based producer (socket, stdin, tail -f) and the pulling trainer.
 *
 * - `block`: `push` waits until there is room (the producer is paused: backpressure).
 * - `drop-oldest`: the oldest queued item is discarded.
 * - `sample`: reservoir-style, the new item replaces a random queued one with probability
 *   capacity/seen, so the buffer stays a uniform sample of what arrived since the last pull.
 * Dropped items are counted in `dropped` and reported through `onDrop`.
 */
export class BoundedQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private closed = false;
  private failure: Error | undefined;
  private readonly waitingPullers: Array<() => void> = [];
  private readonly waitingPushers: Array<() => void> = [];
  private seenSincePull = 0;
  /** Total number of items discarded by the overflow policy. */
  dropped = 0;

  constructor(
    readonly capacity: number,
    readonly policy: OverflowPolicy = 'block',
    private readonly random: () => number = Math.random,
    private readonly onDrop?: (count: number) => void,
  ) {
    if (!(capacity >= 1)) throw new Error('BoundedQueue capacity must be >= 1');
  }

  /** Items currently buffered. */
  get length(): number {
    return this.items.length;
  }

  /** Adds an item; with policy `block` resolves only when there is room. */
  async push(item: T): Promise<void> {
    if (this.closed) throw new Error('push on a closed queue');
    this.seenSincePull++;
    while (this.items.length >= this.capacity) {
      if (this.policy === 'block') {
        await new Promise<void>((resolve) => this.waitingPushers.push(resolve));
        if (this.closed) return;
        continue;
      }
      if (this.policy === 'drop-oldest') {
        this.items.shift();
      } else {
        const j = Math.floor(this.random() * this.seenSincePull);
        this.drop();
        if (j < this.capacity) this.items[j] = item;
        this.wakePuller();
        return;
      }
      this.drop();
    }
    this.items.push(item);
    this.wakePuller();
  }

  /** No more items will come; pullers drain what is left and then finish. */
  close(error?: Error): void {
    this.closed = true;
    this.failure = error;
    this.wakePuller();
    for (const w of this.waitingPushers.splice(0)) w();
  }

  /** Takes the next item, or `undefined` when closed and drained. */
  async pull(): Promise<T | undefined> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) {
        this.seenSincePull = this.items.length;
        this.waitingPushers.shift()?.();
        return item;
      }
      if (this.closed) {
        if (this.failure) throw this.failure;
        return undefined;
      }
      await new Promise<void>((resolve) => this.waitingPullers.push(resolve));
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const item = await this.pull();
      if (item === undefined) return;
      yield item;
    }
  }

  private drop(): void {
    this.dropped++;
    this.onDrop?.(1);
  }

  private wakePuller(): void {
    this.waitingPullers.shift()?.();
  }
}
