import * as tf from '@tensorflow/tfjs';
import type { LayerSpec } from '../pipeline/layer.schema.js';
import type { Rng } from '../random/rng.js';
import { EngramBatchNormalization } from './batch-normalization.layer.js';
import { GruResetAfter } from './gru-reset-after.layer.js';
import { SeededDropout } from './seeded-dropout.layer.js';

/**
 * A tfjs layer for one declared layer (a `layers` entry or a graph node), named `name`. Every weight
 * initialiser takes its seed from `rng` (tfjs' defaults would draw from an unseeded generator), and
 * dropout masks come from `dropout`, so the model is a function of the pipeline's `seed`. Called by the
 * model builder once per declared layer, in declaration order.
 */
export function layerFor(spec: LayerSpec, name: string, rng: Rng, dropout: Rng): tf.layers.Layer {
  // One seed is drawn for every layer, weights or not, before any other: the stream of seeds (and so every
  // model's initial weights, and checkpoints written by earlier versions) stays what it was before graph
  // layers came. A layer's further initialisers (recurrent kernels, embeddings) draw after it.
  const layerSeed = rng.tfSeed();
  let firstTaken = false;
  const seed = (): number => {
    if (firstTaken) return rng.tfSeed();
    firstTaken = true;
    return layerSeed;
  };
  const glorot = (): ReturnType<typeof tf.initializers.glorotUniform> =>
    tf.initializers.glorotUniform({ seed: seed() });
  switch (spec.type) {
    case 'dense':
      return tf.layers.dense({
        name,
        units: spec.units,
        activation: spec.activation ?? 'linear',
        useBias: spec.useBias ?? true,
        kernelInitializer: glorot(),
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
        kernelInitializer: glorot(),
      });
    case 'depthwiseConv2d':
      return tf.layers.depthwiseConv2d({
        name,
        kernelSize: spec.kernelSize,
        depthMultiplier: spec.depthMultiplier ?? 1,
        strides: spec.strides ?? 1,
        padding: spec.padding ?? 'valid',
        activation: spec.activation ?? 'linear',
        useBias: spec.useBias ?? true,
        depthwiseInitializer: glorot(),
      });
    case 'maxPooling2d':
    case 'averagePooling2d': {
      const args = {
        name,
        poolSize: spec.poolSize ?? 2,
        ...(spec.strides !== undefined ? { strides: spec.strides } : {}),
        padding: spec.padding ?? 'valid',
      };
      return spec.type === 'maxPooling2d' ? tf.layers.maxPooling2d(args) : tf.layers.averagePooling2d(args);
    }
    case 'globalAveragePooling2d':
      return tf.layers.globalAveragePooling2d({ name });
    case 'zeroPadding2d':
      return tf.layers.zeroPadding2d({ name, padding: spec.padding ?? 1 });
    case 'flatten':
      return tf.layers.flatten({ name });
    case 'dropout':
      return new SeededDropout({ name, rate: spec.rate, random: dropout });
    case 'batchNormalization':
      return new EngramBatchNormalization({ name, momentum: spec.momentum ?? 0.99, epsilon: spec.epsilon ?? 1e-3 });
    case 'layerNormalization':
      return tf.layers.layerNormalization({
        name,
        axis: spec.axis ?? -1,
        epsilon: spec.epsilon ?? 1e-3,
        center: spec.center ?? true,
        scale: spec.scale ?? true,
      });
    case 'activation':
      return tf.layers.activation({ name, activation: spec.activation });
    case 'reshape':
      return tf.layers.reshape({ name, targetShape: spec.targetShape });
    case 'embedding':
      return tf.layers.embedding({
        name,
        inputDim: spec.inputDim,
        outputDim: spec.outputDim,
        embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: seed() }),
      });
    case 'lstm':
    case 'gru': {
      const args = {
        name,
        units: spec.units,
        activation: spec.activation ?? 'tanh',
        recurrentActivation: spec.recurrentActivation ?? 'hardSigmoid',
        returnSequences: spec.returnSequences ?? false,
        useBias: spec.useBias ?? true,
        kernelInitializer: glorot(),
        recurrentInitializer: tf.initializers.orthogonal({ gain: 1, seed: seed() }),
      };
      if (spec.type === 'lstm') return tf.layers.lstm({ ...args, unitForgetBias: spec.unitForgetBias ?? true });
      return spec.resetAfter === true ? new GruResetAfter(args) : tf.layers.gru(args);
    }
    case 'add':
      return tf.layers.add({ name });
    case 'concatenate':
      return tf.layers.concatenate({ name, axis: spec.axis ?? -1 });
  }
}
