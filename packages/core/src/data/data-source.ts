import type { Observable } from 'rxjs';
import type { Experience, StreamInfo } from './experience.js';

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
  /** Releases files, sockets, timers. Called once when the run ends. */
  close?(): Promise<void>;
}
