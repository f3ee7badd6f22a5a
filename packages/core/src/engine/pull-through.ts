import { Observable } from 'rxjs';

/**
 * An Observable that pulls `source` one item at a time and emits `step(item)`'s result; the next item
 * is requested only after the previous step has finished. This is the engine's backpressure: a source
 * faster than training waits instead of filling memory. Unsubscribing stops pulling and closes the
 * source's iterator.
 */
export function pullThrough<T, R>(source: AsyncIterable<T>, step: (item: T) => Promise<R>): Observable<R> {
  return new Observable<R>((subscriber) => {
    const iterator = source[Symbol.asyncIterator]();
    let stopped = false;
    void (async () => {
      try {
        for (;;) {
          if (stopped) break;
          const next = await iterator.next();
          if (next.done || stopped) break;
          subscriber.next(await step(next.value));
        }
        subscriber.complete();
      } catch (e) {
        subscriber.error(e);
      } finally {
        await iterator.return?.();
      }
    })();
    return () => {
      stopped = true;
    };
  });
}
