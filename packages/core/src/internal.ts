/**
 * The internal entry of @engram/core: the public API (`./index.js`) plus the few engine parts that
 * Engram's own packages need and a third-party plugin should not: the checkpoint codec and store
 * (serving, export, `engram eval`), atomic file writes and output folders (the CLI's files), the
 * prediction view (serving), the event bus and run recorder (CLI runs and tests), ONNX export, two
 * adjustments and the penalty step (strategy and native tests). Not a stable API: applications and
 * plugins import from `@engram/core`. Adding a name here means a CLI or first-party package needs it;
 * prefer making it public when a plugin author would need it too.
 */
export * from './index.js';

// Checkpoints: reading, writing, decoding (serve, export, eval, tests)
export { CheckpointStore } from './checkpoint/checkpoint.store.js';
export { checkpointModelArtifacts, readCheckpoint } from './checkpoint/checkpoint-model.js';
export { decodeCheckpoint } from './checkpoint/run-snapshot.js';
export { decodeStates, encodeStates } from './checkpoint/state-codec.js';

// Files and folders the CLI writes
export { OutputDirError, ensureDir } from './output/safe-dir.js';
export { tempPathOf, writeFileAtomic } from './output/atomic-file.js';
export { probeWritable, runPaths } from './loading/output-probe.js';
export { readJsonFile } from './pipeline/json-source.js';
export { compileSchema } from './pipeline/schema-validator.js';

// Running, serving and recording
export { componentMaker } from './engine/component-maker.js';
export { createComponent } from './plugin/component-factory.js';
export { buildPredictionView, type PredictionView } from './engine/prediction-view.js';
export { checkpointMemory } from './engine/checkpoint-memory.js';
export { EventBus } from './events/event-bus.js';
export { RunRecorder } from './metrics/run-recorder.js';
export { SeriesDownsampler, type SeriesPoint } from './metrics/series-downsampler.js';
export { parseAccuracyMatrixCsv } from './metrics/accuracy-matrix-csv.js';

// Models, ONNX and training internals (export, strategies' and native kernels' tests)
export { fileModelLoader } from './model/file-io.js';
export { loadedSurgeryProblems } from './model/surgery-check.js';
export { exportOnnx, type NormalizeStep } from './model/onnx/onnx-export.js';
export { decodeModel } from './model/onnx/onnx-proto.js';
export { InsertLayerAdjustment } from './model/insert-layer.adjustment.js';
export { WidenLayerAdjustment } from './model/widen-layer.adjustment.js';
export { GruResetAfter } from './model/gru-reset-after.layer.js';
export {
  gruSequence,
  GRU_SEQUENCE_KERNEL,
  GRU_SEQUENCE_GRAD_KERNEL,
  type GruSequenceOptions,
  type GruGate,
} from './model/gru-sequence.js';
export { EngramBatchNormalization, type BatchNormalizationArgs } from './model/batch-normalization.layer.js';
export {
  batchNormTraining,
  hasFusedBatchNormTrainingKernels,
  BATCH_NORM_TRAINING_KERNEL,
  BATCH_NORM_TRAINING_GRAD_KERNEL,
  type BatchNormTrainingResult,
} from './model/batch-norm-training.js';
export { OptimizerHandle } from './training/optimizer-handle.js';
export { addPenaltyGradients } from './training/penalty-step.js';
export { learningRateAt } from './training/lr-schedule.js';
