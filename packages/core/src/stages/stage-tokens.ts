/** Service identifiers of the run container the stages are resolved from. */
export const STAGE_TOKENS = {
  /** Multi-bound {@link Stage}s of the run, in the pipeline's order (`container.getAll`). */
  Stage: Symbol.for('engram:stage'),
  /** The {@link TransformChain} of the pipeline's `preprocess`. */
  Transforms: Symbol.for('engram:stage:transforms'),
  Adjustments: Symbol.for('engram:stage:adjustments'),
  Strategies: Symbol.for('engram:stage:strategies'),
  Detector: Symbol.for('engram:stage:detector'),
  Optimizer: Symbol.for('engram:stage:optimizer'),
  /** The run's {@link RunState}. */
  RunState: Symbol.for('engram:stage:run-state'),
  /** The run's {@link RunControl} (boundary requests, stop). */
  Control: Symbol.for('engram:stage:control'),
  /** The run's {@link CheckpointRegistry}. */
  Checkpoints: Symbol.for('engram:stage:checkpoints'),
  /** The run's {@link CheckpointStore}. */
  CheckpointStore: Symbol.for('engram:stage:checkpoint-store'),
  /** The run's {@link MetricsLog}: flushes `metrics.jsonl` and says how much of it a checkpoint covers. */
  MetricsLog: Symbol.for('engram:stage:metrics-log'),
  /** The run's {@link Trainer} (one optimizer step). */
  Trainer: Symbol.for('engram:stage:trainer'),
  /** The run's {@link TrainingControls} (schedule, validation, early stopping). */
  TrainingControls: Symbol.for('engram:stage:training-controls'),
  /**
   * What every checkpoint's `run.json` says of the run's definition ({@link StoredRun}): the pipeline and
   * the `--set` flags it was started with, secrets redacted.
   */
  StoredRun: Symbol.for('engram:stage:stored-run'),
  /** The {@link PrequentialAccuracy} of a stream run. */
  Prequential: Symbol.for('engram:stage:prequential'),
} as const;
