import { concat, from, Subject, type Observable } from 'rxjs';
import type { EngramEvent } from '../events/engram-event.js';

/**
 * The run's metric history: every event emitted so far, in `seq` order, as checkpoints store it
 * (`events.jsonl`) and as the run recorder sees it.
 *
 * A fresh run starts empty. A resumed run starts with the events of the checkpoint it resumes from;
 * live events are renumbered to continue their `seq` and `time`, and the resumed run's own
 * `run-start` is left out (the history already has one), so `metrics.jsonl` and `summary.json` come
 * out as one uninterrupted run's would.
 */
export class EventHistory {
  private readonly all: EngramEvent[];
  private readonly seqOffset: number;
  private readonly timeOffset: number;

  constructor(past: readonly EngramEvent[] = []) {
    this.all = [...past];
    const last = past[past.length - 1];
    // live seq 0 is the dropped run-start, so live seq 1 follows the last past event
    this.seqOffset = last ? last.seq : 0;
    this.timeOffset = last ? last.time : 0;
  }

  /** Events recorded so far (the checkpoint writer stores them). */
  get events(): readonly EngramEvent[] {
    return this.all;
  }

  /**
   * Subscribes to the live bus (call once, before the first event) and returns the history as one
   * stream: the past events, then the live ones renumbered. Subscribe to the result synchronously.
   */
  attach(live$: Observable<EngramEvent>): Observable<EngramEvent> {
    const resumed = this.all.length > 0;
    const past = [...this.all];
    const out = new Subject<EngramEvent>();
    live$.subscribe({
      next: (event) => {
        if (resumed && event.type === 'run-start') return;
        const renumbered = { ...event, seq: event.seq + this.seqOffset, time: event.time + this.timeOffset } as EngramEvent;
        this.all.push(renumbered);
        out.next(renumbered);
      },
      error: (e: unknown) => out.error(e),
      complete: () => out.complete(),
    });
    return concat(from(past), out);
  }
}

/** Parses `events.jsonl` of a checkpoint. */
export function parseEvents(text: string): EngramEvent[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as EngramEvent);
}
