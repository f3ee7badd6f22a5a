import { concat, from, map, Subject, type Observable } from 'rxjs';
import type { EngramEvent } from '../events/engram-event.js';

/**
 * The run's metric history as the run recorder sees it: the events before a resume (read back from
 * `metrics.jsonl` up to the checkpoint), then the live ones.
 *
 * A fresh run has no past. In a resumed run live events are renumbered to continue the past `seq` and
 * `time`, and the resumed run's own `run-start` is left out (the history already has one), so
 * `metrics.jsonl` and `summary.json` come out as one uninterrupted run's would. Nothing is kept after
 * the past events are replayed: memory does not grow with the length of the run.
 */
export class EventHistory {
  private past: EngramEvent[];
  private readonly seqOffset: number;
  private readonly timeOffset: number;

  /**
   * `continued`: the past is an earlier run's (`--from`), not this run's own — this run's `run-start`
   * is kept, so the history shows where the new run begins.
   */
  constructor(
    past: readonly EngramEvent[] = [],
    private readonly continued = false,
  ) {
    this.past = [...past];
    const last = past[past.length - 1];
    // live seq 0 is the dropped run-start, so live seq 1 follows the last past event (a kept one follows it too)
    this.seqOffset = last ? last.seq + (continued ? 1 : 0) : 0;
    this.timeOffset = last ? last.time : 0;
  }

  /**
   * Subscribes to the live bus (call once, before the first event) and returns the history as one
   * stream: the past events, then the live ones renumbered. Subscribe to the result synchronously.
   */
  attach(live$: Observable<EngramEvent>): Observable<EngramEvent> {
    const past = this.past;
    this.past = [];
    const resumed = past.length > 0;
    const out = new Subject<EngramEvent>();
    live$.subscribe({
      next: (event) => {
        if (resumed && !this.continued && event.type === 'run-start') return;
        out.next({ ...event, seq: event.seq + this.seqOffset, time: event.time + this.timeOffset });
      },
      error: (e: unknown) => out.error(e),
      complete: () => out.complete(),
    });
    return concat(from(past), out);
  }
}

/** Parses JSON lines of events (`metrics.jsonl`). */
export function parseEvents(text: string): EngramEvent[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as EngramEvent);
}

/**
 * The live events numbered as `metrics.jsonl` numbers them (what loggers receive): after a resume or
 * `--from`, `seq` and `time` continue the past ones as {@link EventHistory} does, so an event re-run
 * after a resume carries the same `seq` as before the crash. Unlike the history, the past is not
 * replayed and the resumed run's `run-start` is kept (its `seq` repeats the past's last one).
 */
export function numberedLikeHistory(
  live$: Observable<EngramEvent>,
  past: readonly EngramEvent[],
  continued = false,
): Observable<EngramEvent> {
  const last = past[past.length - 1];
  if (!last) return live$;
  const seqOffset = last.seq + (continued ? 1 : 0);
  return live$.pipe(map((event) => ({ ...event, seq: event.seq + seqOffset, time: event.time + last.time })));
}
