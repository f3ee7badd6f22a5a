import * as tf from '@tensorflow/tfjs';
import type { DataSource } from '../data/data-source.js';
import type { RunState } from '../engine/run-state.js';
import { dropoutRandom } from '../model/seeded-dropout.layer.js';
import type { PipelineDefinition } from '../pipeline/pipeline-definition.js';
import type { Transform } from '../preprocess/transform.js';
import type { Adjustment } from '../model/adjustment.js';
import type { BoundaryDetector } from '../stream/boundary-detector.js';
import type { PrequentialAccuracy } from '../metrics/prequential.js';
import type { OptimizerHandle } from '../training/optimizer-handle.js';
import type { SerializedState } from '../training/serialized-state.js';
import type { StrategyChain } from '../training/strategy-chain.js';
import { NumericalError } from '../training/trainer.js';
import { checkSnapshotSlots } from './snapshot-guard.js';
import type { CheckpointFile } from './checkpoint.store.js';
import { encodeStates } from './state-codec.js';

/** The live parts of a run that a checkpoint captures and a resume restores into. */
export interface RunParts {
  readonly state: RunState;
  readonly optimizer: OptimizerHandle;
  readonly strategies: StrategyChain;
  readonly transforms: readonly Transform[];
  readonly adjustments: readonly Adjustment[];
  readonly source: DataSource;
  readonly detector?: BoundaryDetector;
  readonly prequential: PrequentialAccuracy;
}

/** Everything of a run that a checkpoint captures: its parts, the pipeline, and why and what came before. */
export interface SnapshotParts extends RunParts {
  readonly pipeline: PipelineDefinition;
  /** Why the checkpoint is written (`batches`, `seconds`, `signal`, `experience`, `end`): tells resume where to continue. */
  readonly reason?: string;
  /** How much of `metrics.jsonl` (the metric history) was on disk when the checkpoint was taken. */
  readonly metrics?: MetricsMark;
}

/** A position in the run's `metrics.jsonl`: its length in bytes and the `seq` of its last event. */
export interface MetricsMark {
  readonly bytes: number;
  readonly seq: number;
}

/** Content of `run.json`. */
export interface RunJson {
  readonly cursor: RunState['cursor'];
  readonly progress?: RunState['progress'];
  readonly seenClasses: number[];
  readonly rng: { run: number[]; dropout: number[] };
  readonly source: unknown;
  readonly trainSeconds: number;
  readonly reason?: string;
  /** The metric history this checkpoint belongs to: the first `bytes` of `metrics.jsonl`. */
  readonly metrics?: MetricsMark;
  readonly pipeline: PipelineDefinition;
}

/**
 * Scalars some tfjs optimizers keep outside `getWeights()` (Adam/Adamax `accBeta1`, `accBeta2`: the
 * running products beta^t). `setWeights()` recomputes them with `pow()`, which differs from the
 * running product in the last bits, so checkpoints store and restore them directly.
 */
export const OPTIMIZER_EXTRA_SCALARS = ['accBeta1', 'accBeta2'] as const;

/** The optimizer's extra scalars that exist (see {@link OPTIMIZER_EXTRA_SCALARS}). */
export function optimizerExtras(optimizer: tf.Optimizer): Array<{ name: string; variable: tf.Variable }> {
  const fields = optimizer as unknown as Record<string, unknown>;
  const out: Array<{ name: string; variable: tf.Variable }> = [];
  for (const name of OPTIMIZER_EXTRA_SCALARS) {
    const v = fields[name];
    if (v instanceof tf.Variable) out.push({ name, variable: v });
  }
  return out;
}

function tensorState(tensors: ReadonlyArray<{ name: string; tensor: tf.Tensor }>): SerializedState {
  const arrays: Record<string, { dtype: 'float32' | 'int32'; shape: number[]; data: Float32Array | Int32Array }> = {};
  const names: string[] = [];
  tensors.forEach(({ name, tensor }, i) => {
    names.push(name);
    const data = tensor.dataSync();
    arrays[String(i)] = tensor.dtype === 'int32' ? { dtype: 'int32', shape: tensor.shape, data: Int32Array.from(data) } : { dtype: 'float32', shape: tensor.shape, data: Float32Array.from(data) };
  });
  return { meta: names, arrays };
}

/**
 * Refuses to checkpoint non-finite float32 weights: throws {@link NumericalError} naming the weight
 * and the cursor, so the last good checkpoint stays the newest.
 */
function assertFiniteWeights(bytes: Uint8Array, specs: readonly tf.io.WeightsManifestEntry[], state: RunState): void {
  let offset = 0;
  for (const spec of specs) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    if (spec.dtype === 'float32') {
      const values = new Float32Array(bytes.slice(offset, offset + n * 4).buffer);
      if (!values.every((v) => Number.isFinite(v))) {
        const c = state.cursor;
        throw new NumericalError(`weight ${spec.name} is not finite at experience ${c.experience}, epoch ${c.epoch}, batch ${c.batch} (step ${c.step}); no checkpoint written, the last good one is kept`);
      }
    }
    offset += n * 4;
  }
}

/**
 * Captures a run as checkpoint files (design §6): `model/` in tfjs Layers format, `state.json` +
 * `state.bin` with the optimizer slots, every component's `state()`, RNG states, prequential counters,
 * the cursor and the pipeline definition it belongs to. JSON and raw float32 only.
 */
export async function captureSnapshot(parts: SnapshotParts): Promise<CheckpointFile[]> {
  const files: CheckpointFile[] = [];
  await parts.state.model.network.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData;
      const bytes = data === undefined ? new Uint8Array(0) : new Uint8Array(tf.io.concatenateArrayBuffers(Array.isArray(data) ? data : [data]));
      assertFiniteWeights(bytes, artifacts.weightSpecs ?? [], parts.state);
      files.push({ path: 'model/weights.bin', data: bytes });
      files.push({
        path: 'model/model.json',
        data: JSON.stringify({ modelTopology: artifacts.modelTopology, format: 'layers-model', generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`, convertedBy: 'Engram', weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }] }),
      });
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const optimizerWeights = await parts.optimizer.current.getWeights();
  checkSnapshotSlots(optimizerWeights, parts.state.cursor); // [hardening] no checkpoint of non-finite optimizer state
  const states: Record<string, SerializedState> = {
    optimizer: { ...tensorState(optimizerWeights), meta: { names: optimizerWeights.map((w) => w.name), order: [...parts.optimizer.variableOrder] } },
    prequential: parts.prequential.state(),
    'optimizer:extra': tensorState(optimizerExtras(parts.optimizer.current).map(({ name, variable }) => ({ name, tensor: variable }))),
  };
  // getWeights() returns the live slot variables after a fresh `iter` scalar: dispose only that scalar.
  optimizerWeights[0]?.tensor.dispose();
  for (const [i, s] of parts.strategies.strategies.entries()) if (s.state) states[`strategy:${i}:${s.name}`] = await s.state();
  for (const [i, t] of parts.transforms.entries()) if (t.state) states[`transform:${i}`] = t.state();
  for (const [i, a] of parts.adjustments.entries()) if (a.state) states[`adjust:${i}`] = a.state();
  if (parts.detector?.state) states['detector'] = parts.detector.state();
  const encoded = encodeStates(states);
  const cursor = parts.state.cursor;
  files.push({ path: 'state.bin', data: encoded.bin });
  files.push({ path: 'state.json', data: encoded.json });
  const run: RunJson = {
    cursor,
    progress: parts.state.progress,
    seenClasses: [...parts.state.seenClasses],
    rng: { run: parts.state.rng.state(), dropout: dropoutRandom().state() },
    source: (parts.source.state?.() ?? null) as unknown,
    trainSeconds: parts.state.trainSeconds,
    ...(parts.reason !== undefined ? { reason: parts.reason } : {}),
    ...(parts.metrics !== undefined ? { metrics: parts.metrics } : {}),
    pipeline: parts.pipeline,
  };
  files.push({ path: 'run.json', data: JSON.stringify(run) });
  return files;
}
