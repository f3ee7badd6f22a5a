import * as tf from '@tensorflow/tfjs';
import { buildModel, crossEntropy, Rng, type EngramModel, type LayerSpec } from '@engram/core';

/** The benchmark CNN as the engine builds it (tfjs-layers, as `packages/cli`'s bench spec; head appended). */
export const LAYERS_CNN: LayerSpec[] = [
  { type: 'conv2d', filters: 32, kernelSize: 3, activation: 'relu' },
  { type: 'maxPooling2d', poolSize: 2 },
  { type: 'conv2d', filters: 64, kernelSize: 3, activation: 'relu' },
  { type: 'maxPooling2d', poolSize: 2 },
  { type: 'flatten' },
  { type: 'dense', units: 128, activation: 'relu' },
];

/** The benchmark MLP as the engine builds it. */
export const LAYERS_MLP: LayerSpec[] = [
  { type: 'flatten' },
  { type: 'dense', units: 400, activation: 'relu' },
  { type: 'dense', units: 400, activation: 'relu' },
];

/** Builds `layers` with core's model builder on 28x28x1 inputs and 10 classes (seeded). */
export function buildLayersModel(layers: LayerSpec[], seed: number): Promise<EngramModel> {
  return buildModel({ layers }, { inputShape: [28, 28, 1], outputs: 10, rng: new Rng(seed), baseDir: '.' });
}

/**
 * One training step the way the engine runs it: `tf.variableGrads` of the mean cross-entropy of the
 * layers model's logits, then `applyGradients`; returns the loss.
 */
export function layersTrainStep(
  model: EngramModel,
  optimizer: tf.Optimizer,
  x: tf.Tensor,
  labels: tf.Tensor1D,
): number {
  const { value, grads } = tf.variableGrads(
    () => crossEntropy(model.forward(x, { training: true }) as tf.Tensor2D, labels),
    model.trainableVariables(),
  );
  optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
  const loss = value.dataSync()[0] ?? Number.NaN;
  tf.dispose([value, ...Object.values(grads)]);
  return loss;
}
