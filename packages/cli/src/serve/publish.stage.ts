import { eachItem, type RunItem, type Stage, type StageRun } from '@engram/core';
import type { OperatorFunction } from 'rxjs';
import { snapshotWeights, type WeightSnapshot } from './model-version.js';

/**
 * Where {@link PublishStage} hands its snapshots: a {@link VersionBoard} in this thread, or the
 * serving thread's board by message (`ServeThread`).
 */
export interface SnapshotSink {
  /** The next version number (called once per snapshot). */
  nextNumber(): number;
  /** Takes `snapshot` (it may transfer the snapshot's buffer away). */
  submit(snapshot: WeightSnapshot): unknown;
  /** Whether a version has been submitted or is being served. */
  readonly current: unknown;
}

/** When {@link PublishStage} publishes a new model version. */
export interface PublishPolicy {
  /** Every N optimizer steps; undefined: at checkpoints and experience ends (see `fallbackEvery`). */
  readonly every?: number;
  /**
   * Without `every`, and when the run writes no checkpoint on a batch or time schedule: every N steps (a stream would
   * otherwise never update).
   */
  readonly fallbackEvery?: number;
}

/**
 * Stage `serve-publish` (placed after `checkpoint`, added by `engram run --serve`): copies the model's
 * weights between two items — so a copy never holds a half-applied optimizer step — together with
 * the states its predictions depend on (`StageRun.predictionState`: fitted preprocessing, iCaRL's
 * exemplars, Hedge's α, multi-head task classes), and hands the copy to the {@link VersionBoard},
 * which builds the served model off the training path. Training waits only for the copy (one
 * `dataSync` of the weights and a copy of those states), never for a build or a request.
 *
 * Publishes at `run-start` (the initial or restored model), then every `every` steps, or by default
 * after each batch a checkpoint was written at (`checkpointed(step)` is called by the server's event
 * observer), at each `experience-end` and at `run-end`.
 */
export class PublishStage implements Stage {
  readonly name = 'serve-publish';
  private checkpointStep = -1;
  private lastStep = -1;
  private run: StageRun | undefined;

  constructor(
    private readonly board: SnapshotSink,
    private readonly policy: PublishPolicy,
    private readonly onRun: (run: StageRun) => void = () => undefined,
  ) {}

  /** A checkpoint was written at `step` (from the run's `checkpoint` events). */
  checkpointed(step: number): void {
    this.checkpointStep = step;
  }

  operator(run: StageRun): OperatorFunction<RunItem, RunItem> {
    this.run = run;
    this.onRun(run);
    return eachItem((item) => {
      switch (item.kind) {
        case 'run-start':
        case 'experience-end':
        case 'run-end':
          return this.publish(true);
        case 'batch':
          return this.due(run.cursor.step) ? this.publish(false) : undefined;
        default:
          return undefined;
      }
    });
  }

  private due(step: number): boolean {
    const every = this.policy.every ?? this.policy.fallbackEvery;
    if (every !== undefined && step % every === 0) return true;
    return this.policy.every === undefined && this.checkpointStep === step;
  }

  /**
   * Copies the weights and the prediction states (the item is held meanwhile, so both are of the same
   * step) and submits them; `force` publishes even when the step has not moved.
   */
  private publish(force: boolean): Promise<void> | undefined {
    const run = this.run;
    if (!run) return undefined;
    const step = run.cursor.step;
    if (!force && step === this.lastStep) return undefined;
    if (step === this.lastStep && this.board.current !== undefined) return undefined;
    this.lastStep = step;
    return run.predictionState().then((states) => {
      const snapshot = snapshotWeights(
        run.model().network,
        { version: this.board.nextNumber(), step, experience: Math.max(0, run.cursor.experience) },
        states,
      );
      void this.board.submit(snapshot);
    });
  }
}
