import type { EngramEventInput, EventSink } from '@engram/core';

/**
 * An {@link EventSink} that holds events back until {@link release}: a finite source loads its data when
 * the run asks for its description, before anyone listens to the run's events, so a warning raised while
 * loading (skipped bad rows) would otherwise be lost. Released when the run asks for the experiences.
 */
export class HeldEvents implements EventSink {
  private held: EngramEventInput[] | undefined = [];

  constructor(private readonly target: EventSink | undefined) {}

  emit(event: EngramEventInput): void {
    if (this.held) this.held.push(event);
    else this.target?.emit(event);
  }

  /** Emits what was held, in order; later events pass straight through. */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const e of held) this.target?.emit(e);
  }
}
