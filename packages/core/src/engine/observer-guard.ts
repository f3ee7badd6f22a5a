import { config } from 'rxjs';
import type { EventSink } from '../events/event-sink.js';

/** Warnings one run reports about failing observers before it only counts them. */
const MAX_WARNINGS = 5;

interface Guarded {
  readonly sink: EventSink;
  reported: number;
}

const active = new Set<Guarded>();
let previous: ((err: unknown) => void) | null = null;

function describe(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}

function onUnhandled(err: unknown): void {
  if (active.size === 0) {
    if (previous) previous(err);
    else throw err;
    return;
  }
  for (const g of active) warn(g, `an observer of the run failed: ${describe(err)}`);
}

function warn(g: Guarded, message: string): void {
  g.reported++;
  if (g.reported <= MAX_WARNINGS) g.sink.emit({ type: 'warning', message: g.reported === MAX_WARNINGS ? `${message} (further observer failures are not reported)` : message });
}

/**
 * Keeps a failing observer (a logger, a progress bar, an `observe` callback) from killing the run:
 * RxJS reports an error thrown in a subscriber's callback asynchronously through
 * `config.onUnhandledError` — by default a throw in a timer, which ends the process. While a run is
 * guarded, such an error becomes a `warning` event on every guarded run (the first few; the rest
 * are dropped so a logger that throws on each event cannot flood the stream). `report` is for
 * failures the engine catches itself (a logger's `attach` or `close`). Call `release` when the run
 * ends: it waits one timer turn (errors RxJS has scheduled by then are still caught), then puts the
 * previous handler back when no run is guarded.
 */
export function guardObservers(sink: EventSink): { report(what: string, err: unknown): void; release(): Promise<void> } {
  if (active.size === 0) {
    previous = config.onUnhandledError;
    config.onUnhandledError = onUnhandled;
  }
  const g: Guarded = { sink, reported: 0 };
  active.add(g);
  return {
    report: (what, err) => warn(g, `${what} failed: ${describe(err)}`),
    release: async () => {
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (!active.delete(g) || active.size > 0) return;
      config.onUnhandledError = previous;
      previous = null;
    },
  };
}
