/**
 * The public API of @engram/core: what an application embedding Engram and a third-party plugin
 * (strategy, data source, transform, adjustment, detector, logger, native accelerator) use. Engram's
 * own packages and tests reach internals through `@engram/core/internal`.
 */

// Running pipelines
export {
  startRun,
  startRunFromFile,
  type RunHandle,
  type StartRunOptions,
  type StartRunFromFileOptions,
} from './engine/start-run.js';
export { runPipeline } from './engine/engine.js';
export type { RunOptions, RunOutcome } from './engine/run-options.js';
export type { CommandOverride } from './engine/resume-overrides.js';
export { evaluateCheckpoint, type CheckpointEvaluation } from './engine/evaluate-checkpoint.js';
export {
  loadPipeline,
  preparePipeline,
  type LoadedPipeline,
  type LoadPipelineOptions,
} from './loading/pipeline.loader.js';
export type { PipelineDefinition, BackendName } from './pipeline/pipeline-definition.js';
export { pipelineParts, partsOf, partOptions, type PipelinePart } from './pipeline/pipeline-parts.js';
export { PipelineError, formatProblem, type PipelineProblem } from './plugin-api/pipeline-error.js';
export { composePipelineSchema } from './pipeline/pipeline.schema.js';
export { ServeSchema, type ServePromoteSettings, type ServeSettings } from './pipeline/serve.schema.js';
export { REDACTED, redactSecrets } from './pipeline/secret-redaction.js';
export type { GraphNodeSpec, GraphSpec, LayerSpec } from './pipeline/layer.schema.js';
export type { GraphModelSpec, LayersModelSpec, ModelSpec } from './pipeline/model.schema.js';
export type { OptimizerSpec } from './pipeline/optimizer.schema.js';
export { selectBackend, BackendUnavailableError } from './backend/backend.selector.js';
export { silenceCpuBanner } from './backend/cpu-banner.js';
export { silenceOrthogonalNotice } from './backend/orthogonal-notice.js';
export type { AllFiniteImpl, BackendReport, NativeAccelerator } from './plugin-api/backend-report.js';
export { hostArray, readbackIsFresh, writesAreCopied } from './backend/host-copy.js';

// Events, outputs, checkpoints
export type {
  EngramEvent,
  EngramEventInput,
  EventBase,
  EventOf,
  EvaluationResult,
  GateCheck,
} from './events/engram-event.js';
export type { EventSink } from './events/event-sink.js';
export type { RunSummary } from './metrics/run-summary.js';
export { continualMetrics, type ContinualMetrics } from './metrics/continual-metrics.js';
export { RUN_FILES } from './metrics/run-recorder.js';
export {
  latestValidCheckpoint,
  exportCheckpointModel,
  type VerifiedCheckpoint,
} from './checkpoint/checkpoint-model.js';
export { CorruptCheckpointError } from './checkpoint/checkpoint.store.js';
export { ResumeError } from './engine/resume.js';

// Plugins
export { TOKENS } from './plugin/tokens.js';
export {
  COMPONENT_ROLES,
  type ComponentRole,
  type ComponentServices,
  type ComponentClass,
  type ComponentDescriptor,
  type ComponentCheckContext,
} from './plugin-api/component-descriptor.js';
export { PLUGIN_API_VERSION, checkManifest, type PluginManifest } from './plugin-api/plugin-manifest.js';
export { loadPlugins, type LoadedPlugins, type PluginRequest, type PluginResolution } from './plugin/plugin-loader.js';
export { corePlugin } from './builtins/core.plugin.js';
export { StringEnum } from './pipeline/string-enum.js';
export { discriminated } from './pipeline/pipeline.schema.js';
export { Type, type Static, type TObject, type TSchema } from '@sinclair/typebox';
export { ContainerModule, injectable, inject } from 'inversify';

// Data
export { type Batch, batchSize, sampleLength, selectRows, concatBatches } from './data/batch.js';
export { ArrayBatchSource, type BatchRequest, type BatchSource } from './data/batch-source.js';
export type { Experience, StreamInfo } from './data/experience.js';
export type { DataSource } from './plugin-api/data-source.js';
export { BoundedQueue, type OverflowPolicy } from './data/bounded-queue.js';
export type { Transform, TransformPhase } from './plugin-api/transform.js';
export type { BoundaryDetector } from './plugin-api/boundary-detector.js';
export { Rng } from './random/rng.js';

// Models and training
export {
  LayersEngramModel,
  disposeReplacedModel,
  type EngramModel,
  type ForwardOptions,
} from './plugin-api/engram-model.js';
export type { Adjustment, AdjustContext } from './plugin-api/adjustment.js';
export { buildModel, HEAD_LAYER_NAME, type ModelTarget } from './model/model.builder.js';
export type { Strategy } from './plugin-api/strategy.js';
export type {
  RunMode,
  ExperienceContext,
  StepContext,
  LossContext,
  AfterBatchContext,
  PredictorContext,
} from './plugin-api/contexts.js';
export type { JsonValue, StateArray, SerializedState } from './plugin-api/serialized-state.js';
export { crossEntropy, perSampleCrossEntropy } from './training/loss.js';
export { perSampleRegressionLoss, regressionLoss, errorSums, type RegressionLoss } from './training/regression-loss.js';
export { lossSpecOf, perSampleTaskLoss, CROSS_ENTROPY, type LossSpec, type TaskKind } from './training/task-loss.js';
export { regressionErrors, type RegressionErrors } from './metrics/error-matrix.js';
export {
  QuadraticPenalty,
  isQuadraticPenalty,
  quadraticPenalty,
  type QuadraticTerm,
  type QuadraticPenaltyImpl,
} from './plugin-api/quadratic-penalty.js';
export type { PenalizedApplyImpl, VariablePenalty, VariablePenalties } from './training/penalty-step.js';
export type { RunLogger } from './plugin-api/run-logger.js';
export { TensorBoardLogger, TensorBoardOptions } from './logging/tensorboard.logger.js';
export { CsvLogger, CsvOptions, CSV_COLUMNS } from './logging/csv.logger.js';
export { crc32c, maskedCrc32c, frameRecord, readRecords } from './logging/tfrecord.js';
export {
  TENSORBOARD_PROTO,
  decodeEvent,
  type TensorBoardEvent,
  type SummaryValue,
} from './logging/tensorboard-proto.js';
export { readEventFiles } from './logging/tensorboard-file.js';

// Stages (plugin role `stage`) and checkpointable components
export { BUILTIN_STAGES, type Stage, type StageRun, type RunOutputs } from './plugin-api/stage.js';
export type { PlacedStage } from './stages/stage-order.js';
export type { RunItem } from './plugin-api/run-item.js';
export { eachItem } from './stages/each-item.js';
export type { Checkpointable, CheckpointReason } from './plugin-api/checkpointable.js';
export type { RunStatus } from './events/engram-event.js';
export { surgeryLineage, type SurgeryLineage, type VariableOrigin } from './model/surgery-lineage.js';
