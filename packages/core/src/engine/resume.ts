import * as tf from '@tensorflow/tfjs';
import type { CheckpointStore } from '../checkpoint/checkpoint.store.js';
import { openNewestValid, readCheckpoint } from '../checkpoint/checkpoint-model.js';
import { MissingStateError, type CheckpointRegistry } from '../checkpoint/checkpoint-registry.js';
import type { CheckpointReason } from '../plugin-api/checkpointable.js';
import { readHistory } from '../checkpoint/history-check.js';
import { decodeCheckpoint, type MetricsMark, type RunJson } from '../checkpoint/run-snapshot.js';
import type { EngramEvent } from '../events/engram-event.js';
import { LayersEngramModel } from '../plugin-api/engram-model.js';
import type { PipelineDefinition } from '../pipeline/pipeline-definition.js';
import { redactSecrets } from '../pipeline/secret-redaction.js';
import { setNetworkWeights, weightsFit } from './network-weights.js';
import type { SerializedState } from '../plugin-api/serialized-state.js';
import type { RunContext } from './run-context.js';
import type { RunCursor, RunState } from '../run/run-state.js';
import { canonicalJson, overrideChanges, type CommandOverride } from './resume-overrides.js';

/** A resume that cannot proceed (every checkpoint corrupt, incompatible pipeline). The CLI exits 2. */
export class ResumeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResumeError';
  }
}

/** Pipeline sections that may change between a checkpoint and its resume. */
export const RESUME_IGNORED_SECTIONS = [
  'output',
  'checkpoint',
  'loggers',
  '$schema',
  'description',
  'continueFrom',
] as const;

/** A verified checkpoint, decoded, and where the run continues from it. */
export interface ResumePoint {
  readonly dir: string;
  readonly step: number;
  readonly reason: CheckpointReason;
  readonly run: RunJson;
  /** Every registered part's state, by JSON pointer. */
  readonly states: ReadonlyMap<string, SerializedState>;
  readonly model: tf.io.ModelArtifacts;
  /** Events up to and including this checkpoint's own `checkpoint` event. */
  readonly events: EngramEvent[];
  /** Experience to continue (mid-experience) or to start next; `Infinity` when the run had ended. */
  readonly experience: number;
  /** True when the checkpoint was written inside `experience` (its pass resumes at the cursor). */
  readonly midExperience: boolean;
  /** True when newer checkpoints were skipped as corrupt: the run resumes from this older one. */
  readonly skippedNewer?: boolean;
}

/**
 * Top-level pipeline sections that differ between `stored` and `current`, ignoring
 * {@link RESUME_IGNORED_SECTIONS}. A section one side lacks and the other has as an empty list (a
 * section added to the schema since, such as `stages`) is the same.
 */
export function pipelineDifferences(stored: PipelineDefinition, current: PipelineDefinition): string[] {
  const a = stored as unknown as Record<string, unknown>;
  const b = current as unknown as Record<string, unknown>;
  const ignored = new Set<string>(RESUME_IGNORED_SECTIONS);
  const norm = (v: unknown): string => canonicalJson(Array.isArray(v) && v.length === 0 ? undefined : v);
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !ignored.has(k)).sort();
  return keys.filter((k) => norm(a[k]) !== norm(b[k]));
}

/**
 * The metric history a checkpoint belongs to: the events in the first `mark.bytes` of `metrics.jsonl`,
 * whose last `seq` must be `mark.seq`.
 */
async function historyOf(metricsPath: string, mark: MetricsMark | undefined, dir: string): Promise<EngramEvent[]> {
  return readHistory(metricsPath, mark, dir);
}

/**
 * The refusal of a resume whose pipeline differs in the sections `changed`: naming the `--set` flags
 * that make the difference when the checkpoint recorded its start's flags and one of them (or one of
 * this command's) touches a changed section, else asking for the original pipeline file.
 */
function changedPipeline(
  dir: string,
  changed: readonly string[],
  recorded: readonly CommandOverride[] | undefined,
  current: readonly CommandOverride[],
): ResumeError {
  const what = `the pipeline changed since it was written (${changed.map((k) => `"${k}"`).join(', ')} differ${changed.length === 1 ? 's' : ''})`;
  const flags = recorded ? overrideChanges(changed, recorded, current) : [];
  if (!recorded || flags.length === 0)
    return new ResumeError(
      `cannot resume from ${dir}: ${what}; restore the original pipeline or start a new run without --resume`,
    );
  const started =
    recorded.length > 0
      ? `give --resume the --set flags the run was started with (${recorded.map((o) => `--set ${o.text}`).join(' ')})`
      : 'the run was started without --set flags: resume without them';
  return new ResumeError(
    `cannot resume from ${dir}: ${what}: ${flags.join('; ')}; ${started}, or start a new run without --resume`,
  );
}

async function openPoint(
  dir: string,
  pipeline: PipelineDefinition,
  metricsPath: string,
  overrides: readonly CommandOverride[],
): Promise<ResumePoint> {
  const checkpoint = await readCheckpoint(dir);
  const { run, states, model } = decodeCheckpoint(checkpoint.files, checkpoint.format, dir, pipeline);
  // Stored copies have their secrets redacted: compare like with like.
  const changed = pipelineDifferences(run.pipeline, redactSecrets(pipeline));
  if (changed.length > 0) throw changedPipeline(dir, changed, run.overrides, overrides);
  const events = await historyOf(metricsPath, run.metrics, dir);
  const bytes = [...checkpoint.files.values()].reduce((s, f) => s + f.byteLength, 0);
  const last = events[events.length - 1];
  const own = {
    type: 'checkpoint',
    path: dir,
    step: checkpoint.step,
    bytes,
    seconds: 0,
    seq: last ? last.seq + 1 : 0,
    time: last ? last.time : 0,
  } as EngramEvent;
  const cursor = (states.get('/run/cursor')?.meta as { cursor?: RunCursor } | undefined)?.cursor;
  if (!cursor) throw new ResumeError(`cannot resume from ${dir}: it has no state for /run/cursor`);
  const finished = run.reason === 'end';
  return {
    dir,
    step: checkpoint.step,
    reason: run.reason,
    run,
    states,
    model,
    events: [...events, own],
    experience: finished ? Infinity : cursor.experienceDone ? cursor.experience + 1 : cursor.experience,
    midExperience: !finished && !cursor.experienceDone,
  };
}

/**
 * Finds the newest checkpoint of `store` that passes its sha256 checks and belongs to `pipeline`
 * (format 1 checkpoints are upgraded). A corrupt one is reported through `warn` and the previous one
 * is tried. Undefined when the store holds no checkpoint; throws {@link ResumeError} when every one
 * is corrupt or the pipeline changed incompatibly — naming the `--set` flags (`overrides`: this
 * command's) that differ from the ones the run was started with, where those make the difference.
 * Nothing loaded is executed.
 */
export async function loadResumePoint(
  store: CheckpointStore,
  pipeline: PipelineDefinition,
  metricsPath: string,
  warn: (message: string) => void,
  overrides: readonly CommandOverride[] = [],
): Promise<ResumePoint | undefined> {
  const dirs = await store.list();
  if (dirs.length === 0) return undefined;
  const point = await openNewestValid(
    dirs,
    (dir) => openPoint(dir, pipeline, metricsPath, overrides),
    warn,
    (n) => new ResumeError(`nothing to resume: all ${n} checkpoint(s) in ${store.root} are corrupt`),
  );
  return point.dir === dirs[0] ? point : { ...point, skippedNewer: true };
}

async function restoreModel(point: ResumePoint, state: RunState, context: RunContext): Promise<void> {
  const specs = point.model.weightSpecs ?? [];
  if (weightsFit(state.model.network, specs)) {
    setNetworkWeights(state.model.network, point.model);
    return;
  }
  if (!(state.model instanceof LayersEngramModel)) {
    throw new ResumeError(
      `cannot resume from ${point.dir}: the checkpoint's model has a different structure and the pipeline's model is ` +
        `not a plain layers model`,
    );
  }
  // The head grew (or layers changed) before the checkpoint: rebuild the network from its stored topology.
  const network = await tf.loadLayersModel(tf.io.fromMemory(point.model));
  context.attachModel(network);
  state.model.dispose();
  state.model = new LayersEngramModel(network);
}

async function restoreRegistry(
  point: ResumePoint,
  registry: CheckpointRegistry,
  phase: 'start' | 'after-experience-start',
): Promise<void> {
  try {
    await registry.restore(point.states, phase);
  } catch (e) {
    if (e instanceof MissingStateError) throw new ResumeError(`cannot resume from ${point.dir}: ${e.message}`);
    throw e;
  }
}

/**
 * First restore, right after the model is built and before anything starts: the model (weights, or
 * the stored topology when the head grew), then every entry of the run's checkpoint registry in
 * registration order (optimizer slots, source position, components, RNGs, cursor).
 */
export async function restoreRun(
  point: ResumePoint,
  state: RunState,
  registry: CheckpointRegistry,
  context: RunContext,
): Promise<void> {
  await restoreModel(point, state, context);
  await restoreRegistry(point, registry, 'start');
  state.priorWallSeconds = point.run.wallSeconds ?? (point.events[point.events.length - 1]?.time ?? 0) / 1000;
}

/**
 * Second restore, for a checkpoint written inside an experience, called right after that
 * experience's start ran again through the stages (transforms' `beforeExperience`, adjustments,
 * strategies' `beforeExperience`/`adaptModel`/`trainData`, which provide the data and model wrappers).
 * Whatever those hooks changed is put back: model weights and every registry entry restored
 * `afterExperienceStart` (all but the optimizer and the source). Their events are not repeated.
 */
export async function restoreAfterExperienceStart(
  point: ResumePoint,
  state: RunState,
  registry: CheckpointRegistry,
): Promise<void> {
  if (weightsFit(state.model.network, point.model.weightSpecs ?? []))
    setNetworkWeights(state.model.network, point.model);
  await restoreRegistry(point, registry, 'after-experience-start');
}
