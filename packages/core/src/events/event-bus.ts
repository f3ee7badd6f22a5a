import { Subject, type Observable } from 'rxjs';
import type { EngramEvent, EngramEventInput } from './engram-event.js';
import type { EventSink } from './event-sink.js';

/**
 * The run's event stream. Observers (loggers, progress bars, report writers) subscribe to `events$`;
 * they cannot influence training. Emission is synchronous, so observers see events in `seq` order.
 */
export class EventBus implements EventSink {
  private readonly subject = new Subject<EngramEvent>();
  private seq = 0;
  private readonly start = performance.now();
  /** All events of the run, in order. */
  readonly events$: Observable<EngramEvent> = this.subject.asObservable();

  emit(event: EngramEventInput): void {
    const stamped = {
      ...event,
      seq: this.seq++,
      time: Math.round((performance.now() - this.start) * 1000) / 1000,
    };
    this.subject.next(stamped);
  }

  /** Completes the stream; called once at the end of the run. */
  complete(): void {
    this.subject.complete();
  }
}
