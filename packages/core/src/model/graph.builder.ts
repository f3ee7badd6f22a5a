import * as tf from '@tensorflow/tfjs';
import type { GraphSpec } from '../pipeline/layer.schema.js';
import { PipelineError } from '../plugin-api/pipeline-error.js';
import { DEFAULT_GRAPH_INPUT, graphOutput, topologicalOrder } from './graph-check.js';
import { layerFor } from './layer-factory.js';
import { layerParameters } from './model-limits.js';
import { headLayer, ParameterBudget, shapeText, type ModelTarget } from './model-target.js';

function disposeBuilt(layers: readonly tf.layers.Layer[]): void {
  for (const layer of layers) {
    try {
      if (layer.built) layer.dispose();
    } catch {
      // a layer whose build failed half-way owns nothing more to free
    }
  }
}

/**
 * Builds a structurally valid `graph` (see `graphProblems`) as a tfjs functional model for `target`:
 * an input named `graph.input` with the data's sample shape, one layer per node named after it (applied
 * in dependency order), and a dense head named `head` with `units` outputs after the output node. A node
 * whose inputs it cannot take (mismatched shapes, an empty output) is a {@link PipelineError} at
 * `/model/graph/nodes/<i>`; an output that is not a flat vector, at `/model/graph/output`. Weight seeds
 * are drawn from `target.rng` in declaration order. Called by `buildModel`.
 */
export function buildGraphNetwork(graph: GraphSpec, units: number, target: ModelTarget): tf.LayersModel {
  const dropout = target.dropout ?? target.rng.derive('dropout');
  const inputName = graph.input ?? DEFAULT_GRAPH_INPUT;
  const input = tf.input({ shape: [...target.inputShape], name: inputName });
  const created: tf.layers.Layer[] = [];
  const budget = new ParameterBudget(() => disposeBuilt(created));
  const layers = graph.nodes.map((node) => {
    const layer = layerFor(node, node.name, target.rng, dropout);
    created.push(layer);
    return layer;
  });
  const outputs = new Map<string, tf.SymbolicTensor>([[inputName, input]]);
  for (const i of topologicalOrder(graph)) {
    const node = graph.nodes[i];
    const layer = layers[i];
    if (!node || !layer) continue;
    const ins = node.inputs.map((name) => outputs.get(name) as tf.SymbolicTensor);
    const at = `/model/graph/nodes/${i}`;
    budget.add(layerParameters(node, ins[0]?.shape ?? []), at);
    try {
      const out = layer.apply(ins.length === 1 ? (ins[0] as tf.SymbolicTensor) : ins) as tf.SymbolicTensor;
      if (out.shape.some((d) => d !== null && !(d > 0)))
        throw new Error(`its output shape ${shapeText(out.shape)} is empty`);
      outputs.set(node.name, out);
    } catch (e) {
      disposeBuilt(created);
      const shapes = ins.map((t) => shapeText(t.shape)).join(' and ');
      throw PipelineError.at(
        at,
        `${node.type} "${node.name}" does not fit its input${ins.length > 1 ? 's' : ''} ${shapes}: ${(e as Error).message.split('\n')[0] ?? ''}`,
      );
    }
  }
  const outName = graphOutput(graph);
  const features = outputs.get(outName) as tf.SymbolicTensor;
  if (features.shape.length !== 2) {
    disposeBuilt(created);
    throw PipelineError.at(
      graph.output !== undefined ? '/model/graph/output' : `/model/graph/nodes/${graph.nodes.length - 1}`,
      `the output node "${outName}" gives shape ${shapeText(features.shape)}; the dense head needs a flat vector — end with globalAveragePooling2d or flatten`,
    );
  }
  budget.add(layerParameters({ type: 'dense', units }, features.shape), '/model/head');
  const head = headLayer(units, target.rng);
  const logits = head.apply(features) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: 'graph' });
}
