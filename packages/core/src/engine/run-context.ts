import type * as tf from '@tensorflow/tfjs';
import { leaseBackend, type BackendLease } from '../backend/backend-lease.js';
import type { BackendReport } from '../plugin-api/backend-report.js';
import type { RunAccelerator } from '../backend/run-accelerator.js';
import { attachDropoutRandom } from '../model/seeded-dropout.layer.js';
import type { BackendName } from '../pipeline/pipeline-definition.js';
import type { Rng } from '../random/rng.js';

/**
 * What one run owns that used to be process-wide: the generator its dropout masks come from, the
 * accelerated penalty and optimizer operations of its backend, and its hold on the tfjs backend. The
 * engine opens one per run and hands it down (model builder, optimizer handle, trainer, checkpoints,
 * resume); two runs in one process each have their own, so neither changes the other's numbers.
 *
 * tfjs itself keeps one engine per process (backend, registered kernels, tidy scopes, variable
 * registry). Runs share it safely because every `tf.tidy` and gradient tape in Engram is synchronous
 * (no scope spans an `await`), and the backend is leased: a second run joins the first's backend or
 * is refused, it never switches it.
 */
export class RunContext {
  private closed = false;

  private constructor(
    private readonly lease: BackendLease,
    /** The generator every `SeededDropout` of this run's model draws its masks from (checkpointed). */
    readonly dropout: Rng,
  ) {}

  /** Leases the backend `backend` (see `leaseBackend`) and creates the run's context. */
  static async open(backend: BackendName, dropout: Rng): Promise<RunContext> {
    return new RunContext(await leaseBackend(backend), dropout);
  }

  /** The backend this run got, and why. */
  get backend(): BackendReport {
    return this.lease.selection.report;
  }

  /** Accelerated operations (native kernels) of this run's backend; empty without them. */
  get accelerator(): RunAccelerator {
    return this.lease.selection.accelerator;
  }

  /**
   * Gives this run's dropout generator to every `SeededDropout` of `network` — call it for a model
   * loaded with `tf.loadLayersModel` (a checkpoint, a `load` path), which tfjs built without one.
   */
  attachModel(network: tf.LayersModel): void {
    attachDropoutRandom(network, this.dropout);
  }

  /** Releases the backend lease; call once the run ended (idempotent). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.lease.release();
  }
}
