import type * as tf from '@tensorflow/tfjs';
import { resolve } from 'node:path';
import { MERGE_LAYERS } from '../pipeline/layer.schema.js';
import type { ComponentRegistry } from '../plugin/component-registry.js';
import type { PipelineDefinition } from '../pipeline/pipeline-definition.js';
import { PipelineError, type PipelineProblem } from '../plugin-api/pipeline-error.js';
import { readModelFile } from './model-file.js';

/**
 * The model surgeries that rebuild the network as a chain of layers (see `chainOf` in layer-surgery.ts):
 * each rewires the layer after the one it changes, which a merge node's other branch would not follow.
 */
export const CHAIN_SURGERIES: ReadonlySet<string> = new Set([
  'widen-layer',
  'insert-layer',
  'set-activation',
  'reinit-layers',
]);

/**
 * Problems of a pipeline whose `adjust` list has a chain-only surgery ({@link CHAIN_SURGERIES}) while its
 * `model.graph` has merge nodes (`add`, `concatenate`: residual or branching networks), one at each such
 * adjustment's pointer (`/adjust/1`) naming the first merge node — so `engram validate` and `engram run`
 * refuse it (exit 2) before training instead of failing at the experience the surgery was due. Called by
 * the pipeline loader once the graph (inline or from its file) is resolved; reads `definition` only.
 */
export function surgeryProblems(definition: PipelineDefinition): PipelineProblem[] {
  const model = definition.model;
  if (!('graph' in model) || typeof model.graph === 'string') return [];
  const nodes = model.graph.nodes;
  const mergeAt = nodes.findIndex((n) => MERGE_LAYERS.has(n.type));
  const merge = nodes[mergeAt];
  if (!merge) return [];
  const problems: PipelineProblem[] = [];
  definition.adjust.forEach((a, i) => {
    if (!CHAIN_SURGERIES.has(a.kind)) return;
    problems.push({
      path: `/adjust/${i}`,
      message:
        `${a.kind} rewrites a chain of layers, and this graph model has merge nodes ` +
        `(${merge.type} "${merge.name}" at /model/graph/nodes/${mergeAt}); it supports graphs without ` +
        'add/concatenate (and layer stacks) only',
    });
  });
  return problems;
}

/**
 * The first layer of `network`, in its topological order, that takes several inputs (a merge: `Add`,
 * `Concatenate`, …), or undefined for a chain. Reads the layers' inbound connections only.
 */
export function firstMergeLayer(network: tf.LayersModel): tf.layers.Layer | undefined {
  return network.layers.find((layer) => layer.inboundNodes.some((node) => node.inboundLayers.length > 1));
}

/**
 * {@link surgeryProblems} for a model known only once it is built: a loaded file (`model.load`, ONNX or
 * tfjs Layers) or the earlier run's model under `--from`. One problem at each chain-only adjustment's
 * pointer naming the first merge layer, so the run stops (exit 2) before any training instead of failing
 * at the experience the surgery was due. Called by the run once its model is built and restored; reads
 * `definition` and the network's topology only.
 */
export function builtSurgeryProblems(definition: PipelineDefinition, network: tf.LayersModel): PipelineProblem[] {
  const chained = definition.adjust.map((a, i) => ({ kind: a.kind, i })).filter((a) => CHAIN_SURGERIES.has(a.kind));
  if (chained.length === 0) return [];
  const merge = firstMergeLayer(network);
  if (!merge) return [];
  const model = definition.model;
  const origin = 'load' in model ? `the loaded model (${model.load})` : "the earlier run's model";
  return chained.map(({ kind, i }) => ({
    path: `/adjust/${i}`,
    message:
      `${kind} rewrites a chain of layers, and ${origin} has merge nodes ` +
      `(${merge.getClassName()} layer "${merge.name}" takes ${merge.inboundNodes[0]?.inboundLayers.length ?? 2} inputs); ` +
      'it supports models without merges (add/concatenate) only',
  }));
}

/**
 * {@link builtSurgeryProblems} for `engram validate`, which builds no model: when the pipeline loads a
 * model file (`model.load`, resolved against `baseDir`) and its `adjust` list has a chain-only surgery,
 * the file is read (weights too: tfjs needs them to build the layers), its topology checked and the
 * network disposed — so `validate` refuses what `run` refuses at `/adjust/<i>`, with the same message.
 * A file that cannot be read is the problem `run` reports at `/model/load`. Without a chain surgery or
 * a loaded model nothing is read.
 */
export async function loadedSurgeryProblems(
  definition: PipelineDefinition,
  baseDir: string,
): Promise<PipelineProblem[]> {
  const model = definition.model;
  if (!('load' in model) || !definition.adjust.some((a) => CHAIN_SURGERIES.has(a.kind))) return [];
  let network: tf.LayersModel;
  try {
    network = await readModelFile(resolve(baseDir, model.load));
  } catch (e) {
    if (e instanceof PipelineError) return [...e.problems];
    throw e;
  }
  try {
    return builtSurgeryProblems(definition, network);
  } finally {
    network.dispose();
  }
}

/** The adjustments that build a new network from the model's layers (and so return an unwrapped model). */
export const REBUILDING_ADJUSTMENTS: ReadonlySet<string> = new Set(['grow-head', ...CHAIN_SURGERIES]);

/**
 * Problems of an `adjust` list where an adjustment that rebuilds the network ({@link
 * REBUILDING_ADJUSTMENTS}) follows one that wraps the model (its descriptor's `wrapsModel`, e.g.
 * `multi-head`): the rebuilt model would come back without the wrapper, so the experience would train
 * unmasked. One problem at each such adjustment's pointer. Called by the pipeline loader after the
 * schema passed; reads `definition` and the registry only.
 */
export function adjustOrderProblems(definition: PipelineDefinition, registry: ComponentRegistry): PipelineProblem[] {
  const wrapperAt = definition.adjust.findIndex((a) => registry.get('adjust', a.kind)?.wrapsModel !== undefined);
  const wrapper = definition.adjust[wrapperAt];
  if (!wrapper) return [];
  const reason = registry.get('adjust', wrapper.kind)?.wrapsModel ?? '';
  const problems: PipelineProblem[] = [];
  definition.adjust.forEach((a, i) => {
    if (i <= wrapperAt || !REBUILDING_ADJUSTMENTS.has(a.kind)) return;
    problems.push({
      path: `/adjust/${i}`,
      message:
        `${a.kind} rebuilds the network and would drop the wrapper ${wrapper.kind} (/adjust/${wrapperAt}) puts on ` +
        `the model (${reason}); list ${a.kind} before ${wrapper.kind}`,
    });
  });
  return problems;
}
