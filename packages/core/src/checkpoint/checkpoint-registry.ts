import type { SerializedState } from '../plugin-api/serialized-state.js';
import type { Checkpointable, CheckpointEntryOptions } from '../plugin-api/checkpointable.js';

/** A registered {@link Checkpointable} with its JSON pointer. */
export interface CheckpointEntry {
  /**
   * JSON pointer of the component in the pipeline (`/strategy/0`, `/preprocess/1`, `/data`), or a `/run/…` pointer for
   * the run's own parts.
   */
  readonly pointer: string;
  readonly target: Checkpointable;
  readonly options: CheckpointEntryOptions;
}

/** A resume that cannot proceed because a registered part has no state in the checkpoint. */
export class MissingStateError extends Error {}

/**
 * Every checkpointable part of a run, keyed by JSON pointer, in registration order. Checkpoint
 * capture, `--resume` and `engram eval` all walk this one registry: whatever is registered is saved
 * and restored, and nothing else is.
 */
export class CheckpointRegistry {
  private readonly entries = new Map<string, CheckpointEntry>();

  /** Registers `target` under `pointer`; a second registration of the same pointer is an error. */
  register(pointer: string, target: Checkpointable, options: CheckpointEntryOptions = {}): void {
    if (!pointer.startsWith('/')) throw new Error(`checkpoint pointer "${pointer}" must start with "/"`);
    if (this.entries.has(pointer)) throw new Error(`checkpoint pointer "${pointer}" is registered twice`);
    this.entries.set(pointer, { pointer, target, options });
  }

  /** Registered pointers, in order. */
  get pointers(): string[] {
    return [...this.entries.keys()];
  }

  /** Every entry's state, by pointer (called between two batches). */
  async capture(): Promise<Map<string, SerializedState>> {
    const out = new Map<string, SerializedState>();
    for (const e of this.entries.values()) out.set(e.pointer, await e.target.state());
    return out;
  }

  /**
   * Restores every entry from `states` (by pointer). `phase: 'after-experience-start'` restores only
   * the entries registered with `afterExperienceStart` (the default). Throws {@link MissingStateError}
   * for a required entry the checkpoint lacks.
   */
  async restore(
    states: ReadonlyMap<string, SerializedState>,
    phase: 'start' | 'after-experience-start' = 'start',
  ): Promise<void> {
    for (const e of this.entries.values()) {
      if (phase === 'after-experience-start' && e.options.afterExperienceStart === false) continue;
      const s = states.get(e.pointer);
      if (s === undefined) {
        if (e.options.optional) continue;
        throw new MissingStateError(`it has no state for ${e.pointer}`);
      }
      await e.target.restore?.(s);
    }
  }

  /**
   * Restores only the entries `states` has (by pointer), in registration order, and returns their
   * pointers; nothing is required. Used by `--from`, which maps an earlier run's states onto this
   * run's pointers and leaves the rest fresh.
   */
  async restorePresent(states: ReadonlyMap<string, SerializedState>): Promise<string[]> {
    const restored: string[] = [];
    for (const e of this.entries.values()) {
      const s = states.get(e.pointer);
      if (s === undefined) continue;
      await e.target.restore?.(s);
      restored.push(e.pointer);
    }
    return restored;
  }

  /**
   * Tells every entry with a `checkpointed` hook that the checkpoint holding `states` is durable.
   * Returns the failures (pointer and message); they never undo the checkpoint.
   */
  async checkpointed(states: ReadonlyMap<string, SerializedState>): Promise<string[]> {
    const failures: string[] = [];
    for (const e of this.entries.values()) {
      const s = states.get(e.pointer);
      if (!e.target.checkpointed || s === undefined) continue;
      try {
        await e.target.checkpointed(s);
      } catch (err) {
        failures.push(`${e.pointer}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return failures;
  }
}
