import { MERGE_LAYERS } from '../pipeline/layer.schema.js';
import type { PipelineDefinition } from '../pipeline/pipeline-definition.js';
import type { PipelineProblem } from '../plugin-api/pipeline-error.js';

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
