import { Observable, type MonoTypeOperatorFunction } from 'rxjs';

/**
 * Pull-based backpressure across an RxJS pipe. `items$` pulls `source` one item at a time; the next
 * item is pulled only when the item just emitted has come out of `demand()` — the operator placed
 * after the last stage:
 *
 *     feed.items$.pipe(...stages, feed.demand())
 *
 * So at most one item of the feed is inside the stages at any moment, a source faster than the stages
 * waits instead of filling memory, and the order of work is the order of the feed. Items are matched
 * by their `seq` (so a stage may emit a copy). Unsubscribing — the run ends, fails or a stage errors —
 * stops pulling and closes the source's iterator (its `finally` blocks run).
 */
export class PulledFeed<T extends { readonly seq: number }> {
  private waiting = -1;
  private pull: (() => void) | undefined;

  constructor(private readonly source: AsyncIterable<T>) {}

  /** The feed; each subscription starts one pass over the source. */
  readonly items$: Observable<T> = new Observable<T>((subscriber) => {
    const iterator = this.source[Symbol.asyncIterator]();
    let closed = false;
    let finished: Promise<unknown> | undefined;
    const close = (): Promise<unknown> => (finished ??= Promise.resolve(iterator.return?.()).catch(() => undefined));
    // One pair of callbacks per run, not per item.
    const onNext = (next: IteratorResult<T>): void => {
      if (closed) return;
      if (next.done) {
        closed = true;
        subscriber.complete();
        return;
      }
      this.waiting = next.value.seq;
      subscriber.next(next.value);
    };
    const onError = (e: unknown): void => {
      if (closed) return;
      closed = true;
      subscriber.error(e);
    };
    this.pull = () => {
      iterator.next().then(onNext, onError);
    };
    this.pull();
    return () => {
      if (!closed) {
        closed = true;
        void close();
      }
      this.pull = undefined;
    };
  });

  /** The operator after the last stage: passes items on and pulls the next feed item once the current one is through. */
  demand(): MonoTypeOperatorFunction<T> {
    return (items$) =>
      new Observable<T>((subscriber) =>
        items$.subscribe({
          next: (item) => {
            subscriber.next(item);
            if (item.seq === this.waiting) {
              this.waiting = -1;
              this.pull?.();
            }
          },
          error: (e: unknown) => subscriber.error(e),
          complete: () => subscriber.complete(),
        }),
      );
  }
}
