import type { EngramEventInput } from './engram-event.js';

/** Where components report events. The bus stamps `seq` and `time`. */
export interface EventSink {
  emit(event: EngramEventInput): void;
}
