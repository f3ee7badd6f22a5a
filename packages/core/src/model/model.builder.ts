import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { inputValues, layerParameters, MAX_INPUT_VALUES, MAX_MODEL_PARAMETERS } from './model-limits.js';
import type { LayerSpec, ModelSpec } from '../pipeline/layer.schema.js';
import { PipelineError } from '../pipeline/pipeline-error.js';
import type { Rng } from '../random/rng.js';
import { LayersEngramModel, type EngramModel } from './engram-model.js';
import { fileModelLoader } from './file-io.js';
import { attachDropoutRandom, SeededDropout } from './seeded-dropout.layer.js';

/** Name of the classifier head layer Engram appends. */
export const HEAD_LAYER_NAME = 'head';

/** What the model is built for. */
export interface ModelTarget {
  /** Sample shape after preprocessing. */
  readonly inputShape: readonly number[];
  /** Output units of the head (default: the stream's classes). */
  readonly outputs: number;
  /** Weight initialisers draw their seeds from it. */
  readonly rng: Rng;
  /** Dropout layers draw their masks from it (the run's `RunContext.dropout`); default `rng.derive('dropout')`. */
  readonly dropout?: Rng;
  /** Folder `load` paths are relative to. */
  readonly baseDir: string;
}

function layerFor(spec: LayerSpec, index: number, rng: Rng, dropout: Rng): tf.layers.Layer {
  const name = spec.name ?? `l${index}_${spec.type}`;
  const kernelInitializer = tf.initializers.glorotUniform({ seed: rng.tfSeed() });
  switch (spec.type) {
    case 'dense':
      return tf.layers.dense({
        name,
        units: spec.units,
        activation: spec.activation ?? 'linear',
        useBias: spec.useBias ?? true,
        kernelInitializer,
      });
    case 'conv2d':
      return tf.layers.conv2d({
        name,
        filters: spec.filters,
        kernelSize: spec.kernelSize,
        strides: spec.strides ?? 1,
        padding: spec.padding ?? 'valid',
        activation: spec.activation ?? 'linear',
        useBias: spec.useBias ?? true,
        kernelInitializer,
      });
    case 'maxPooling2d':
      return tf.layers.maxPooling2d({
        name,
        poolSize: spec.poolSize ?? 2,
        ...(spec.strides !== undefined ? { strides: spec.strides } : {}),
        padding: spec.padding ?? 'valid',
      });
    case 'flatten':
      return tf.layers.flatten({ name });
    case 'dropout':
      return new SeededDropout({ name, rate: spec.rate, random: dropout });
    case 'batchNormalization':
      return tf.layers.batchNormalization({ name, momentum: spec.momentum ?? 0.99, epsilon: spec.epsilon ?? 1e-3 });
    case 'activation':
      return tf.layers.activation({ name, activation: spec.activation });
    case 'reshape':
      return tf.layers.reshape({ name, targetShape: spec.targetShape });
  }
}

function shapeText(shape: ReadonlyArray<number | null>): string {
  return `[${shape.slice(1).join(', ')}]`;
}

/**
 * Builds the pipeline's model for `target`: the declared layers plus a dense head named `head`, or a
 * loaded tfjs Layers model. A layer that does not fit the shape it receives is a {@link PipelineError}
 * at `/model/layers/<i>`; so is a loaded model whose input does not match the data.
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
  const model = tf.sequential();
  const dropout = target.dropout ?? target.rng.derive('dropout');
  model.add(tf.layers.inputLayer({ inputShape: [...target.inputShape] }));
  let shape: Array<number | null> = [null, ...target.inputShape];
  let parameters = 0;
  const budget = (more: number, path: string): void => {
    parameters += more;
    if (parameters > MAX_MODEL_PARAMETERS) {
      model.dispose();
      throw PipelineError.at(
        path,
        `the model would have ${parameters.toLocaleString('en')} parameters or more, over the limit of ` +
          `${MAX_MODEL_PARAMETERS.toLocaleString('en')}`,
      );
    }
  };
  spec.layers.forEach((layerSpec, i) => {
    budget(layerParameters(layerSpec, shape), `/model/layers/${i}`); // counted before tfjs allocates the weights
    try {
      model.add(layerFor(layerSpec, i, target.rng, dropout));
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
  budget(layerParameters({ type: 'dense', units: spec.head?.units ?? target.outputs }, shape), '/model/head');
  model.add(
    tf.layers.dense({
      name: HEAD_LAYER_NAME,
      units: spec.head?.units ?? target.outputs,
      kernelInitializer: tf.initializers.glorotUniform({ seed: target.rng.tfSeed() }),
    }),
  );
  return new LayersEngramModel(model);
}

async function loadModel(file: string, target: ModelTarget): Promise<EngramModel> {
  let network: tf.LayersModel;
  try {
    network = await tf.loadLayersModel(fileModelLoader(file));
  } catch (e) {
    throw PipelineError.at('/model/load', `cannot load ${file}: ${(e as Error).message.split('\n')[0] ?? ''}`);
  }
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
