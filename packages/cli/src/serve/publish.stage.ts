import { eachItem, type BatchSource, type RunItem, type Stage, type StageRun } from '@engram/core';
import type { OperatorFunction } from 'rxjs';
import { HeldOutCollector, memorySlice, type HeldOutSlice } from './gate-samples.js';
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
  /** Takes an experience's held-out slice for the promotion gates (absent: no gates). */
  holdOut?(slice: HeldOutSlice): void;
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
  /** `serve.promote.heldOut` when the gates check forgetting: samples kept per experience. */
  readonly heldOut?: number;
  /** The pipeline's seed: a stream's replay-memory slice is drawn with it (default 0). */
  readonly seed?: number;
}

/**
 * Stage `serve-publish` (placed after `checkpoint`, added by `engram run --serve`): copies the model's
 * weights between two items — so a copy never holds a half-applied optimizer step — together with
 * the states its predictions depend on (`StageRun.predictionState`: fitted preprocessing, iCaRL's
 * exemplars, Hedge's α, multi-head task classes), and hands the copy to the {@link VersionBoard},
 * which builds the served model off the training path. Training waits only for the copy (one
 * `dataSync` of the weights and a copy of those states), never for a build or a request.
 *
 * With `heldOut` (the forgetting gate) it also sends held-out slices: the first `heldOut` samples of
 * each experience's test set, or of a stream's prequential test batches; and on a stream whose
 * strategy keeps a replay memory (`StageRun.memory`), a slice of `heldOut` rows of the memory drawn
 * with the pipeline's seed at every publish, sent just before that publish's snapshot.
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
  private readonly heldOut: HeldOutCollector | undefined;
  /** Whether the run is a stream (prequential test batches, no test sets): the replay memory is scored too. */
  private streamed = false;

  constructor(
    private readonly board: SnapshotSink,
    private readonly policy: PublishPolicy,
    private readonly onRun: (run: StageRun) => void = () => undefined,
  ) {
    this.heldOut = policy.heldOut !== undefined && board.holdOut ? new HeldOutCollector(policy.heldOut) : undefined;
  }

  /** A checkpoint was written at `step` (from the run's `checkpoint` events). */
  checkpointed(step: number): void {
    this.checkpointStep = step;
  }

  operator(run: StageRun): OperatorFunction<RunItem, RunItem> {
    this.run = run;
    this.onRun(run);
    return eachItem((item) => {
      switch (item.kind) {
        case 'experience-start':
          return this.holdOutTestSet(run, item.experience.index, item.experience.test);
        case 'test':
          this.streamed = true;
          // A stream's test batch, shown before it is trained on (already preprocessed, test phase).
          if (this.heldOut && !this.heldOut.full(item.experience.index))
            this.keep(this.heldOut.add(item.experience.index, item.batch));
          return undefined;
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

  private keep(slice: HeldOutSlice | undefined): void {
    if (slice) this.board.holdOut?.(slice);
  }

  /** Experiences: the first `heldOut` samples of the experience's test set, preprocessed as the run evaluates. */
  private holdOutTestSet(run: StageRun, experience: number, test: BatchSource | undefined): Promise<void> | undefined {
    const collector = this.heldOut;
    if (!collector || !test || test.endless === true || collector.full(experience)) return undefined;
    return (async () => {
      for await (const batch of test.batches({ batchSize: 256, shuffle: false, epoch: 0, seed: 0 })) {
        this.keep(collector.add(experience, run.preprocess(batch)));
        if (collector.full(experience)) break;
      }
    })();
  }

  /**
   * A stream with a replay memory: sends a seeded slice of the memory as it is now, before the
   * snapshot of the same instant, so the gates score that version (and the served one) on it.
   */
  private holdOutMemory(run: StageRun): void {
    const size = this.policy.heldOut;
    if (size === undefined || !this.board.holdOut) return;
    if (!this.streamed && run.info.experiences !== 'endless') return;
    const memory = run.memory?.();
    if (memory && memory.y.length > 0)
      this.keep(memorySlice(memory, size, this.policy.seed ?? 0, Math.max(0, run.cursor.experience)));
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
    this.holdOutMemory(run);
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
