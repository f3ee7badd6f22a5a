import type { Observable } from 'rxjs';
import type { Experience, StreamInfo } from '../data/experience.js';

/**
 * A data-source component (role `dataset`): produces the experiences of a run.
 *
 * The engine calls `describe()` once before building the model, then subscribes to `experiences()` and
 * processes one experience at a time (the next one is taken only when the previous one is done).
 * Experiences must be cheap descriptors: data is read when their batch sources are pulled.
 */
export interface DataSource {
  /** Input shape, class count and stream length, known before training. */
  describe(): Promise<StreamInfo>;
  /** The experiences, in order. Finite for benchmark scenarios; live streams emit one endless experience. */
  experiences(): Observable<Experience>;
  /** Live-source position for checkpoints (e.g. a line number). */
  state?(): unknown;
  /** Restores what `state()` returned, before `experiences()` is subscribed. */
  restore?(state: unknown): void;
  /**
   * Called once a checkpoint holding `state` (the value `state()` returned for it) is durable on disk
   * (written, fsynced and renamed into place). Sources that acknowledge records upstream (a Redis
   * consumer group's `XACK`) do it here, so nothing is acknowledged that a crash could still lose.
   * May do I/O; must not touch the model or tensors. A rejection is reported as a warning, never
   * undoes the checkpoint.
   */
  checkpointed?(state: unknown): Promise<void> | void;
  /** Releases files, sockets, timers. Called once when the run ends. */
  close?(): Promise<void>;
}
