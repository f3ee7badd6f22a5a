import * as tf from '@tensorflow/tfjs';

/** A dense layer's parameters. */
export interface DenseParams {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable;
}

/** An MLP defined with plain tfjs ops (fused matMul + bias + relu, as tfjs-layers' Dense does). */
export interface Mlp {
  readonly layers: readonly DenseParams[];
  readonly variables: tf.Variable[];
  /** Logits for a batch `[n, inputs]`. */
  predict(x: tf.Tensor): tf.Tensor2D;
  dispose(): void;
}

let mlpCounter = 0;

/** Builds an MLP with sizes like `[784, 400, 400, 10]`, Glorot-uniform kernels from `seed`, zero biases. */
export function createMlp(sizes: readonly number[], seed: number): Mlp {
  const id = mlpCounter++;
  const layers: DenseParams[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    const fanIn = sizes[i] ?? 1,
      fanOut = sizes[i + 1] ?? 1;
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    const kernel = tf.tidy(() =>
      tf.variable(
        tf.randomUniform([fanIn, fanOut], -limit, limit, 'float32', seed + i),
        true,
        `mlp${id}/dense${i}/kernel`,
      ),
    );
    const bias = tf.tidy(() => tf.variable(tf.zeros([fanOut]), true, `mlp${id}/dense${i}/bias`));
    layers.push({ kernel, bias });
  }
  const predict = (x: tf.Tensor): tf.Tensor2D =>
    tf.tidy(() => {
      let h = x as tf.Tensor2D;
      layers.forEach(({ kernel, bias }, i) => {
        const activation = i === layers.length - 1 ? 'linear' : 'relu';
        h = tf.fused.matMul({ a: h, b: kernel, bias, activation }) as tf.Tensor2D;
      });
      return h;
    });
  const variables = layers.flatMap((l) => [l.kernel, l.bias]);
  return { layers, variables, predict, dispose: () => variables.forEach((v) => v.dispose()) };
}

/** A fixed synthetic classification batch: inputs in [0, 1), one-hot labels. */
export function syntheticBatch(
  n: number,
  inputs: number,
  classes: number,
  seed: number,
): { x: tf.Tensor2D; y: tf.Tensor2D } {
  return tf.tidy(() => {
    const x = tf.randomUniform<tf.Rank.R2>([n, inputs], 0, 1, 'float32', seed);
    const labels = tf
      .randomUniform([n], 0, classes, 'float32', seed + 1)
      .floor()
      .toInt();
    return { x, y: tf.oneHot(labels as tf.Tensor1D, classes).toFloat() as tf.Tensor2D };
  });
}

/** What the training helpers need from a model. */
export interface TrainableModel {
  readonly variables: tf.Variable[];
  predict(x: tf.Tensor): tf.Tensor;
}

/** One training step (forward, backward, optimizer update), with an optional penalty; returns the loss. */
export function trainStep(
  model: TrainableModel,
  optimizer: tf.Optimizer,
  x: tf.Tensor,
  y: tf.Tensor2D,
  penalty?: () => tf.Scalar,
): number {
  const lossFn = (): tf.Scalar => {
    const ce = tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(y, model.predict(x));
    return penalty ? tf.add(ce, penalty()) : ce;
  };
  const loss = optimizer.minimize(lossFn, true, model.variables);
  const value = loss?.dataSync()[0] ?? Number.NaN;
  loss?.dispose();
  return value;
}

/** Runs `steps` training steps on one fixed batch; returns the last loss. */
export function trainSteps(
  model: TrainableModel,
  optimizer: tf.Optimizer,
  x: tf.Tensor,
  y: tf.Tensor2D,
  steps: number,
): number {
  let loss = Number.NaN;
  for (let s = 0; s < steps; s++) loss = trainStep(model, optimizer, x, y);
  return loss;
}

/** The benchmark CNN (as torch_speed.py's): conv3x3x32-maxpool-conv3x3x64-maxpool-dense128-dense10 on 28x28x1. */
export interface Cnn extends TrainableModel {
  dispose(): void;
}

let cnnCounter = 0;

function glorot(shape: number[], fanIn: number, fanOut: number, seed: number, name: string): tf.Variable {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return tf.tidy(() => tf.variable(tf.randomUniform(shape, -limit, limit, 'float32', seed), true, name));
}

/** Builds the CNN with fused conv2d / matMul (bias + relu), as tfjs-layers' Conv2D and Dense do. */
export function createCnn(seed: number): Cnn {
  const p = `cnn${cnnCounter++}`;
  const zeros = (n: number, name: string) => tf.tidy(() => tf.variable(tf.zeros([n]), true, `${p}/${name}`));
  const c1 = glorot([3, 3, 1, 32], 9, 288, seed, `${p}/c1`),
    c1b = zeros(32, 'c1b');
  const c2 = glorot([3, 3, 32, 64], 288, 576, seed + 1, `${p}/c2`),
    c2b = zeros(64, 'c2b');
  const d1 = glorot([1600, 128], 1600, 128, seed + 2, `${p}/d1`),
    d1b = zeros(128, 'd1b');
  const d2 = glorot([128, 10], 128, 10, seed + 3, `${p}/d2`),
    d2b = zeros(10, 'd2b');
  const variables = [c1, c1b, c2, c2b, d1, d1b, d2, d2b];
  const predict = (x: tf.Tensor): tf.Tensor2D =>
    tf.tidy(() => {
      let h = tf.fused.conv2d({
        x: x as tf.Tensor4D,
        filter: c1 as tf.Tensor4D,
        strides: 1,
        pad: 'valid',
        bias: c1b,
        activation: 'relu',
      });
      h = tf.maxPool(h, 2, 2, 'valid');
      h = tf.fused.conv2d({ x: h, filter: c2 as tf.Tensor4D, strides: 1, pad: 'valid', bias: c2b, activation: 'relu' });
      h = tf.maxPool(h, 2, 2, 'valid');
      const flat = h.reshape<tf.Tensor2D>([h.shape[0], -1]);
      const hidden = tf.fused.matMul({ a: flat, b: d1, bias: d1b, activation: 'relu' });
      return tf.fused.matMul({ a: hidden, b: d2, bias: d2b }) as tf.Tensor2D;
    });
  return { variables, predict, dispose: () => variables.forEach((v) => v.dispose()) };
}
