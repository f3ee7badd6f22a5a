import * as tf from '@tensorflow/tfjs';
import type { CheckpointRegistry } from '../checkpoint/checkpoint-registry.js';
import { LayersEngramModel } from '../plugin-api/engram-model.js';
import type { PipelineDefinition } from '../pipeline/pipeline-definition.js';
import { PipelineError } from '../plugin-api/pipeline-error.js';
import { optimizerChanges } from '../pipeline/optimizer.schema.js';
import { pipelineParts, type PipelinePart } from '../pipeline/pipeline-parts.js';
import type { SerializedState } from '../plugin-api/serialized-state.js';
import type { ContinuePoint } from './continue-from.js';
import { setNetworkWeights, weightsFit } from './network-weights.js';
import { ResumeError } from './resume.js';
import { canonicalJson } from './resume-overrides.js';
import type { RunContext } from './run-context.js';
import type { RunState } from '../run/run-state.js';

/** The roles whose components may keep state a continued run carries over, in the order they are said. */
const CARRIED: readonly string[] = ['strategy', 'transform', 'adjust', 'stage', 'detector'];

/** The components of a pipeline that may keep state, from its parts table. */
function parts(def: PipelineDefinition): PipelinePart[] {
  const all = pipelineParts(def);
  return CARRIED.flatMap((role) => all.filter((p) => p.role === role));
}

/**
 * Maps the earlier run's states onto this run's pointers: components by role and kind, the n-th of a
 * kind to the n-th (so a strategy that moved in the list keeps its state); the optimizer when its type
 * is the same (each setting that changed is said, old → new); the prequential counters, RNG streams,
 * cursor and training controls (`/training`: schedule, early stopping) as they are. The data source's
 * position is never carried over (new data). Everything that does not match is said through `warn`.
 */
export function continuedStates(
  point: ContinuePoint,
  def: PipelineDefinition,
  registered: readonly string[],
  warn: (message: string) => void,
): Map<string, SerializedState> {
  const earlier = point.run.pipeline;
  const out = new Map<string, SerializedState>();
  const take = (to: string, from: string): void => {
    const s = point.states.get(from);
    if (s !== undefined && registered.includes(to)) out.set(to, s);
  };
  if (earlier.optimizer.type === def.optimizer.type) {
    take('/optimizer', '/optimizer');
    for (const c of optimizerChanges(earlier.optimizer, def.optimizer))
      warn(`the optimizer's ${c.setting} changed: ${c.from} → ${c.to} (its ${def.optimizer.type} state carries over)`);
  } else warn(`the optimizer changed from ${earlier.optimizer.type} to ${def.optimizer.type}: its state starts fresh`);
  const used = new Set<string>();
  const before = parts(earlier).filter((p) => point.states.has(p.pointer));
  for (const part of parts(def)) {
    const match = before.find((p) => !used.has(p.pointer) && p.role === part.role && p.kind === part.kind);
    if (match) {
      used.add(match.pointer);
      take(part.pointer, match.pointer);
    } else if (registered.includes(part.pointer)) {
      warn(`${part.noun} ${part.kind} (${part.pointer}) is new in this run: it starts fresh`);
    }
  }
  for (const p of before)
    if (!used.has(p.pointer))
      warn(`the earlier run's ${p.noun} ${p.kind} (${p.pointer}) is not in this pipeline: its state is dropped`);
  for (const pointer of ['/evaluation', '/run/rng', '/run/dropout', '/run/cursor', '/training']) take(pointer, pointer);
  return out;
}

/** Input shape (without the batch axis) and number of outputs of a tfjs Layers network. */
function signature(network: tf.LayersModel): { input: string; outputs: number } {
  const input = (network.inputs[0]?.shape ?? []).slice(1).join('x');
  const out = network.outputs[0]?.shape ?? [];
  return { input, outputs: Number(out[out.length - 1] ?? 0) };
}

/**
 * Puts the earlier run's model in place of the one the pipeline built: its architecture and weights
 * (a plain layers model), or its weights when the pipeline's model is of another kind and the shapes
 * fit. A different input shape is a pipeline error at `/data`; more classes than the head has, at
 * `/adjust`, unless the pipeline grows the head. Both exit 2 through the CLI.
 */
export async function continueModel(
  point: ContinuePoint,
  def: PipelineDefinition,
  state: RunState,
  context: RunContext,
  inputShape: readonly number[],
): Promise<void> {
  const network = await tf.loadLayersModel(tf.io.fromMemory(point.model));
  const sig = signature(network);
  if (sig.input !== inputShape.join('x')) {
    network.dispose();
    throw PipelineError.at(
      '/data',
      `the earlier run's model (${point.dir}) takes inputs of shape [${sig.input.replaceAll('x', ', ')}], this ` +
        `pipeline's data (after preprocess) has [${inputShape.join(', ')}]`,
    );
  }
  if (state.info.numClasses > sig.outputs && !def.adjust.some((a) => a.kind === 'grow-head')) {
    network.dispose();
    throw PipelineError.at(
      '/adjust',
      `the data has ${state.info.numClasses} classes and the earlier run's head ${sig.outputs} outputs; add { ` +
        `"kind": "grow-head" } to grow it`,
    );
  }
  if (state.model instanceof LayersEngramModel) {
    context.attachModel(network);
    state.model.dispose();
    state.model = new LayersEngramModel(network);
    return;
  }
  network.dispose();
  if (!weightsFit(state.model.network, point.model.weightSpecs ?? []))
    throw new ResumeError(
      `cannot continue from ${point.dir}: its model has a different structure and this pipeline's model is not a plain layers model`,
    );
  setNetworkWeights(state.model.network, point.model);
}

/**
 * Restores a run started `--from` an earlier one: the model ({@link continueModel}), then the states
 * {@link continuedStates} maps, through the run's registry. Called once, where a resume would restore.
 */
export async function restoreContinued(
  point: ContinuePoint,
  def: PipelineDefinition,
  state: RunState,
  registry: CheckpointRegistry,
  context: RunContext,
  inputShape: readonly number[],
  warn: (message: string) => void,
): Promise<void> {
  if (state.model instanceof LayersEngramModel && canonicalJson(point.run.pipeline.model) !== canonicalJson(def.model))
    warn(
      `this pipeline's "model" differs from the earlier run's (${point.dir}): the earlier run's architecture and weights are used (change it with "adjust" surgery, or start without --from to train this one)`,
    );
  await continueModel(point, def, state, context, inputShape);
  await registry.restorePresent(continuedStates(point, def, registry.pointers, warn));
}
