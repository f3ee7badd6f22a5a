import type { Observable } from 'rxjs';
import type { EngramEvent } from '../events/engram-event.js';

/**
 * An observer of the run (role `logger`, pipeline `loggers[]`): receives the event stream and cannot
 * influence training. `attach` is called before the first event; `close` after the last.
 */
export interface RunLogger {
  attach(events$: Observable<EngramEvent>, outputDir: string): void;
  close?(): Promise<void>;
}
