import * as tf from '@tensorflow/tfjs';
import { CheckpointStore, CorruptCheckpointError } from '../checkpoint/checkpoint.store.js';
import { readHistory } from '../checkpoint/history-check.js';
import { parseRunJson } from '../checkpoint/run-json.schema.js';
import { optimizerExtras, type MetricsMark, type RunJson, type RunParts } from '../checkpoint/run-snapshot.js';
import { decodeStates } from '../checkpoint/state-codec.js';
import type { EngramEvent } from '../events/engram-event.js';
import { LayersEngramModel } from '../model/engram-model.js';
import { dropoutRandom } from '../model/seeded-dropout.layer.js';
import type { PipelineDefinition } from '../pipeline/pipeline-definition.js';
import type { OptimizerHandle } from '../training/optimizer-handle.js';
import type { SerializedState } from '../training/serialized-state.js';
import type { RunState } from './run-state.js';

/** A resume that cannot proceed (no valid checkpoint, incompatible pipeline). The CLI exits 2. */
export class ResumeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResumeError';
  }
}

/** Pipeline sections that may change between a checkpoint and its resume. */
export const RESUME_IGNORED_SECTIONS = ['output', 'checkpoint', 'loggers', '$schema', 'description'] as const;

/** A verified checkpoint, decoded, and where the run continues from it. */
export interface ResumePoint {
  readonly dir: string;
  readonly step: number;
  /** Why it was written (`batches`, `seconds`, `signal`, `experience`, `end`). */
  readonly reason: string;
  readonly run: RunJson;
  readonly states: Record<string, SerializedState>;
  readonly model: tf.io.ModelArtifacts;
  /** Events up to and including this checkpoint's own `checkpoint` event. */
  readonly events: EngramEvent[];
  /** Experience to continue (mid-experience) or to start next; `Infinity` when the run had ended. */
  readonly experience: number;
  /** True when the checkpoint was written inside `experience` (its pass resumes at the cursor). */
  readonly midExperience: boolean;
}

/** The parts of a run a checkpoint restores into (the same a checkpoint captures). */
export type RestoreTargets = RunParts;

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Top-level pipeline sections that differ between `stored` and `current`, ignoring {@link RESUME_IGNORED_SECTIONS}. */
export function pipelineDifferences(stored: PipelineDefinition, current: PipelineDefinition): string[] {
  const a = stored as unknown as Record<string, unknown>;
  const b = current as unknown as Record<string, unknown>;
  const ignored = new Set<string>(RESUME_IGNORED_SECTIONS);
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !ignored.has(k)).sort();
  return keys.filter((k) => canonical(a[k]) !== canonical(b[k]));
}

function text(files: Map<string, Uint8Array>, path: string, dir: string): string {
  const data = files.get(path);
  if (!data) throw new CorruptCheckpointError(`${dir}: has no ${path}`);
  return new TextDecoder().decode(data);
}

/**
 * The metric history a checkpoint belongs to: the events in the first `mark.bytes` of `metrics.jsonl`,
 * whose last `seq` must be `mark.seq` (and whose sha256 must match the mark's). [hardening] checks in
 * checkpoint/history-check.ts; a damaged history is a CorruptCheckpointError (the previous checkpoint is tried).
 */
async function historyOf(metricsPath: string, mark: MetricsMark | undefined, dir: string): Promise<EngramEvent[]> {
  return readHistory(metricsPath, mark, dir);
}

async function decodePoint(dir: string, pipeline: PipelineDefinition, metricsPath: string): Promise<ResumePoint> {
  const { manifest, files } = await CheckpointStore.read(dir);
  let run: RunJson;
  let states: Record<string, SerializedState>;
  let modelJson: tf.io.ModelJSON;
  try {
    run = parseRunJson(text(files, 'run.json', dir), dir); // [hardening] schema-checked (checkpoint/run-json.schema.ts)
    states = decodeStates(text(files, 'state.json', dir), files.get('state.bin') ?? new Uint8Array(0));
    modelJson = JSON.parse(text(files, 'model/model.json', dir)) as tf.io.ModelJSON;
  } catch (e) {
    if (e instanceof CorruptCheckpointError) throw e;
    throw new CorruptCheckpointError(`${dir}: ${(e as Error).message}`);
  }
  const changed = pipelineDifferences(run.pipeline, pipeline);
  if (changed.length > 0) {
    throw new ResumeError(`cannot resume from ${dir}: the pipeline changed since it was written (${changed.map((k) => `"${k}"`).join(', ')} differ${changed.length === 1 ? 's' : ''}); restore the original pipeline or start a new run without --resume`);
  }
  const events = await historyOf(metricsPath, run.metrics, dir);
  const weights = files.get('model/weights.bin') ?? new Uint8Array(0);
  const model: tf.io.ModelArtifacts = {
    modelTopology: modelJson.modelTopology,
    weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights),
    weightData: weights.slice().buffer,
  };
  const reason = run.reason ?? 'batches';
  const bytes = Object.values(manifest.files).reduce((s, f) => s + f.bytes, 0);
  const last = events[events.length - 1];
  const own = { type: 'checkpoint', path: dir, step: manifest.step, bytes, seconds: 0, seq: last ? last.seq + 1 : 0, time: last ? last.time : 0 } as EngramEvent;
  const finished = reason === 'end';
  const done = reason === 'experience';
  return {
    dir, step: manifest.step, reason, run, states, model, events: [...events, own],
    experience: finished ? Infinity : done ? run.cursor.experience + 1 : run.cursor.experience,
    midExperience: !finished && !done,
  };
}

/**
 * Finds the newest checkpoint of `store` that passes its sha256 checks and belongs to `pipeline`.
 * A corrupt or truncated one is reported through `warn` and the previous one is tried. Throws
 * {@link ResumeError} when none is usable or the pipeline changed incompatibly. Nothing loaded is
 * executed: checkpoints are JSON and raw arrays only.
 */
export async function loadResumePoint(store: CheckpointStore, pipeline: PipelineDefinition, metricsPath: string, warn: (message: string) => void): Promise<ResumePoint> {
  const dirs = await store.list();
  if (dirs.length === 0) throw new ResumeError(`nothing to resume: no checkpoint in ${store.root}; run without --resume to start`);
  for (const dir of dirs) {
    try {
      return await decodePoint(dir, pipeline, metricsPath);
    } catch (e) {
      if (!(e instanceof CorruptCheckpointError)) throw e;
      warn(`skipping corrupt checkpoint: ${e.message}`);
    }
  }
  throw new ResumeError(`nothing to resume: all ${dirs.length} checkpoint(s) in ${store.root} are corrupt`);
}

function weightsFit(network: tf.LayersModel, specs: readonly tf.io.WeightsManifestEntry[]): boolean {
  const weights = network.weights;
  return weights.length === specs.length && weights.every((w, i) => w.shape.join('x') === (specs[i]?.shape ?? []).join('x'));
}

function setNetworkWeights(network: tf.LayersModel, model: tf.io.ModelArtifacts): void {
  const specs = model.weightSpecs ?? [];
  const map = tf.io.decodeWeights(model.weightData ?? new ArrayBuffer(0), specs);
  const tensors = specs.map((s) => map[s.name] as tf.Tensor);
  network.setWeights(tensors);
  for (const t of Object.values(map)) t.dispose();
}

async function restoreModel(point: ResumePoint, state: RunState): Promise<void> {
  const specs = point.model.weightSpecs ?? [];
  if (weightsFit(state.model.network, specs)) {
    setNetworkWeights(state.model.network, point.model);
    return;
  }
  if (!(state.model instanceof LayersEngramModel)) {
    throw new ResumeError(`cannot resume from ${point.dir}: the checkpoint's model has a different structure and the pipeline's model is not a plain layers model`);
  }
  // The head grew (or layers changed) before the checkpoint: rebuild the network from its stored topology.
  const network = await tf.loadLayersModel(tf.io.fromMemory(point.model));
  state.model.dispose();
  state.model = new LayersEngramModel(network);
}

function renameSlot(name: string, storedOrder: readonly string[], currentOrder: readonly string[]): string {
  let best = -1;
  storedOrder.forEach((v, i) => {
    if (name.startsWith(`${v}/`) && (best < 0 || v.length > (storedOrder[best] ?? '').length)) best = i;
  });
  const target = currentOrder[best];
  const from = storedOrder[best];
  return best < 0 || target === undefined || from === undefined ? name : `${target}${name.slice(from.length)}`;
}

async function restoreOptimizer(point: ResumePoint, state: RunState, optimizer: OptimizerHandle): Promise<void> {
  const s = point.states['optimizer'];
  const meta = (s?.meta ?? {}) as { names?: string[]; order?: string[] };
  const names = meta.names ?? [];
  const storedOrder = meta.order ?? [];
  await optimizer.track(state.model.trainableVariables());
  const currentOrder = optimizer.variableOrder;
  if (names.length <= 1 && storedOrder.length === 0) return;
  if (storedOrder.length !== currentOrder.length) {
    throw new ResumeError(`cannot resume from ${point.dir}: the optimizer has state for ${storedOrder.length} variables, the model has ${currentOrder.length} trainable ones`);
  }
  const named = names.map((name, i) => {
    const a = s?.arrays?.[String(i)];
    if (!a) throw new ResumeError(`cannot resume from ${point.dir}: optimizer slot ${name} is missing`);
    return { name: i === 0 ? name : renameSlot(name, storedOrder, currentOrder), tensor: tf.tensor(a.data, [...a.shape], a.dtype) };
  });
  await optimizer.current.setWeights(named);
  for (const n of named) n.tensor.dispose();
  // setWeights() recomputes Adam's accBeta with pow(); put back the exact running products.
  const extra = point.states['optimizer:extra'];
  const extraNames = (extra?.meta ?? []) as string[];
  for (const { name, variable } of optimizerExtras(optimizer.current)) {
    const a = extra?.arrays?.[String(extraNames.indexOf(name))];
    if (a) tf.tidy(() => variable.assign(tf.tensor(a.data, [...a.shape], a.dtype)));
  }
}

/** Restores what the components own: strategies, transforms, adjustments, detector, prequential, RNGs, cursor and totals. */
async function restoreComponents(point: ResumePoint, t: RestoreTargets): Promise<void> {
  const missing = (key: string): never => {
    throw new ResumeError(`cannot resume from ${point.dir}: it has no state for ${key}`);
  };
  for (const [i, s] of t.strategies.strategies.entries()) {
    if (!s.restore) continue;
    const key = `strategy:${i}:${s.name}`;
    await s.restore(point.states[key] ?? missing(key));
  }
  for (const [i, tr] of t.transforms.entries()) {
    if (tr.restore) tr.restore(point.states[`transform:${i}`] ?? missing(`transform:${i}`));
  }
  for (const [i, a] of t.adjustments.entries()) {
    if (a.restore) a.restore(point.states[`adjust:${i}`] ?? missing(`adjust:${i}`));
  }
  if (t.detector?.restore) t.detector.restore(point.states['detector'] ?? missing('detector'));
  if (point.states['prequential']) t.prequential.restore(point.states['prequential']);
  const run = point.run;
  t.state.rng.restore(run.rng.run);
  dropoutRandom().restore(run.rng.dropout);
  Object.assign(t.state.cursor, run.cursor);
  if (run.progress) Object.assign(t.state.progress, run.progress);
  t.state.trainSeconds = run.trainSeconds;
  t.state.seenClasses.clear();
  for (const c of run.seenClasses) t.state.seenClasses.add(c);
}

/**
 * First restore, right after the model is built and before any experience starts: model (weights,
 * or the stored topology when the head grew), optimizer slots, source position, every component's
 * state, RNGs, cursor and seen classes.
 */
export async function restoreRun(point: ResumePoint, t: RestoreTargets): Promise<void> {
  await restoreModel(point, t.state);
  await restoreOptimizer(point, t.state, t.optimizer);
  if (point.run.source !== null && point.run.source !== undefined) t.source.restore?.(point.run.source);
  await restoreComponents(point, t);
}

/**
 * Second restore, for a checkpoint written inside an experience, called right after that
 * experience's start hooks ran again (transforms' `beforeExperience`, adjustments, strategies'
 * `beforeExperience`/`adaptModel`/`trainData`, which provide the data source and model wrappers).
 * Whatever those hooks changed is put back to the checkpoint: model weights, component states,
 * RNGs, cursor and running totals. The hooks' own events are not repeated (`experience-start`).
 */
export async function restoreAfterExperienceStart(point: ResumePoint, t: RestoreTargets): Promise<void> {
  if (weightsFit(t.state.model.network, point.model.weightSpecs ?? [])) setNetworkWeights(t.state.model.network, point.model);
  await restoreComponents(point, t);
}
