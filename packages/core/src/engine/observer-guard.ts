import { config } from 'rxjs';
import type { EventSink } from '../events/event-sink.js';

/** Distinct observer failures one run reports; later ones are dropped. */
const MAX_WARNINGS = 10;

interface Guarded {
  readonly sink: EventSink;
  /** Messages already reported (each distinct failure once, so an observer that throws on every event is one warning). */
  readonly reported: Set<string>;
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
  if (g.reported.has(message) || g.reported.size >= MAX_WARNINGS) return;
  g.reported.add(message);
  g.sink.emit({
    type: 'warning',
    message: g.reported.size === MAX_WARNINGS ? `${message} (further observer failures are not reported)` : message,
  });
}

/**
 * Keeps a failing observer (a logger, a progress bar, an `observe` callback) from killing the run:
 * RxJS reports an error thrown in a subscriber's callback asynchronously through
 * `config.onUnhandledError` — by default a throw in a timer, which ends the process. While a run is
 * guarded, such an error becomes a `warning` event on every guarded run (each distinct failure
 * once, so a logger that throws on every event cannot flood the stream). `report` is for failures
 * the engine catches itself (a logger's `attach` or `close`). Call `release` when the run
 * ends: it waits one timer turn (errors RxJS has scheduled by then are still caught), then puts the
 * previous handler back when no run is guarded.
 */
export function guardObservers(sink: EventSink): {
  report(what: string, err: unknown): void;
  release(): Promise<void>;
} {
  if (active.size === 0) {
    previous = config.onUnhandledError;
    config.onUnhandledError = onUnhandled;
  }
  const g: Guarded = { sink, reported: new Set() };
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
