import { Observable, type MonoTypeOperatorFunction } from 'rxjs';
import type { RunItem } from '../plugin-api/run-item.js';

/**
 * A stage operator from a per-item handler: calls `handle(item)` for each item in order and passes
 * the item on when the handler is done. A handler that returns nothing passes the item on at once
 * (no promise, no allocation per item); one that returns a promise holds the item — and every
 * later one — until it settles. A throw or rejection errors the run.
 */
export function eachItem(handle: (item: RunItem) => void | Promise<void>): MonoTypeOperatorFunction<RunItem> {
  return (source) =>
    new Observable<RunItem>((subscriber) => {
      const queue: RunItem[] = [];
      let busy = false;
      let ended = false;
      const drain = (): void => {
        while (!busy && queue.length > 0 && !subscriber.closed) {
          const item = queue.shift() as RunItem;
          let pending: Promise<void> | undefined;
          try {
            pending = handle(item) as Promise<void> | undefined;
          } catch (e) {
            subscriber.error(e);
            return;
          }
          if (pending) {
            busy = true;
            pending.then(
              () => {
                busy = false;
                subscriber.next(item);
                drain();
              },
              (e: unknown) => subscriber.error(e),
            );
            return;
          }
          subscriber.next(item);
        }
        if (!busy && ended && queue.length === 0) subscriber.complete();
      };
      const subscription = source.subscribe({
        next: (item) => {
          queue.push(item);
          drain();
        },
        error: (e: unknown) => subscriber.error(e),
        complete: () => {
          ended = true;
          drain();
        },
      });
      return () => subscription.unsubscribe();
    });
}
