import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { inputValues, layerParameters, MAX_INPUT_VALUES } from './model-limits.js';
import type { LayerSpec } from '../pipeline/layer.schema.js';
import type { LayersModelSpec, ModelSpec } from '../pipeline/model.schema.js';
import { PipelineError } from '../plugin-api/pipeline-error.js';
import { LayersEngramModel, type EngramModel } from '../plugin-api/engram-model.js';
import { buildGraphNetwork } from './graph.builder.js';
import { resolveModelSpec } from './graph-source.js';
import { readModelFile } from './model-file.js';
import { attachDropoutRandom } from './seeded-dropout.layer.js';
import { layerFor } from './layer-factory.js';

export { HEAD_LAYER_NAME } from './graph-check.js';
export { headLayer, ParameterBudget, shapeText, type ModelTarget } from './model-target.js';
import { headLayer, ParameterBudget, shapeText, type ModelTarget } from './model-target.js';

/**
 * Builds the pipeline's model for `target`: the declared layers (a stack) or graph (named nodes) plus a
 * dense head named `head`, or a loaded tfjs Layers model or ONNX file (imported channels-last; see
 * docs/onnx.md). A layer that does not fit the shape it
 * receives is a {@link PipelineError} at `/model/layers/<i>` or `/model/graph/nodes/<i>`; so is a loaded
 * model whose input does not match the data. Called once per run (and by `--from`/`--resume`, which
 * then load weights into it).
 */
export async function buildModel(spec: ModelSpec, target: ModelTarget): Promise<EngramModel> {
  if ('load' in spec) return loadModel(resolve(target.baseDir, spec.load), target);
  if (inputValues(target.inputShape) > MAX_INPUT_VALUES) {
    throw PipelineError.at(
      '/data',
      `the data's samples have shape [${target.inputShape.join(', ')}] ` +
        `(${inputValues(target.inputShape).toLocaleString('en')} values), over the limit of ` +
        `${MAX_INPUT_VALUES.toLocaleString('en')} per sample`,
    );
  }
  const resolved = await resolveModelSpec(spec, target.baseDir);
  if (resolved.problems.length > 0) throw new PipelineError(resolved.problems);
  const ready = resolved.spec;
  if ('graph' in ready) {
    if (typeof ready.graph === 'string') throw PipelineError.at('/model/graph', 'the graph file was not read');
    return new LayersEngramModel(buildGraphNetwork(ready.graph, ready.head?.units ?? target.outputs, target));
  }
  return buildStack(ready as LayersModelSpec, target);
}

function buildStack(spec: LayersModelSpec, target: ModelTarget): EngramModel {
  const model = tf.sequential();
  const dropout = target.dropout ?? target.rng.derive('dropout');
  model.add(tf.layers.inputLayer({ inputShape: [...target.inputShape] }));
  let shape: Array<number | null> = [null, ...target.inputShape];
  const budget = new ParameterBudget(() => model.dispose());
  spec.layers.forEach((layerSpec: LayerSpec, i) => {
    budget.add(layerParameters(layerSpec, shape), `/model/layers/${i}`);
    try {
      model.add(layerFor(layerSpec, layerSpec.name ?? `l${i}_${layerSpec.type}`, target.rng, dropout));
      const out = model.outputs[0]?.shape ?? [];
      if (out.some((d) => d !== null && !(d > 0))) throw new Error(`its output shape ${shapeText(out)} is empty`);
      shape = out;
    } catch (e) {
      model.dispose();
      throw PipelineError.at(
        `/model/layers/${i}`,
        `${layerSpec.type} does not fit its input ${shapeText(shape)}: ${(e as Error).message.split('\n')[0] ?? ''}`,
      );
    }
  });
  if (shape.length !== 2) {
    model.dispose();
    throw PipelineError.at(
      '/model/layers',
      `the layers end in shape ${shapeText(shape)}; the dense head needs a flat vector — add { "type": "flatten" }`,
    );
  }
  const units = spec.head?.units ?? target.outputs;
  budget.add(layerParameters({ type: 'dense', units }, shape), '/model/head');
  model.add(headLayer(units, target.rng));
  return new LayersEngramModel(model);
}

async function loadModel(file: string, target: ModelTarget): Promise<EngramModel> {
  const network = await readModelFile(file);
  const inShape = network.inputs[0]?.shape.slice(1) ?? [];
  const fits =
    inShape.length === target.inputShape.length && inShape.every((d, i) => d === null || d === target.inputShape[i]);
  if (!fits) {
    network.dispose();
    throw PipelineError.at(
      '/model/load',
      `the model takes inputs of shape [${inShape.join(', ')}] but the data has [${target.inputShape.join(', ')}]`,
    );
  }
  attachDropoutRandom(network, target.dropout ?? target.rng.derive('dropout'));
  return new LayersEngramModel(network);
}
