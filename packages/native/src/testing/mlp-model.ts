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
  predict(x: tf.Tensor2D): tf.Tensor2D;
  dispose(): void;
}

let mlpCounter = 0;

/** Builds an MLP with sizes like `[784, 400, 400, 10]`, Glorot-uniform kernels from `seed`, zero biases. */
export function createMlp(sizes: readonly number[], seed: number): Mlp {
  const id = mlpCounter++;
  const layers: DenseParams[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    const fanIn = sizes[i] ?? 1, fanOut = sizes[i + 1] ?? 1;
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    const kernel = tf.tidy(() =>
      tf.variable(tf.randomUniform([fanIn, fanOut], -limit, limit, 'float32', seed + i), true, `mlp${id}/dense${i}/kernel`));
    const bias = tf.tidy(() => tf.variable(tf.zeros([fanOut]), true, `mlp${id}/dense${i}/bias`));
    layers.push({ kernel, bias });
  }
  const predict = (x: tf.Tensor2D): tf.Tensor2D =>
    tf.tidy(() => {
      let h: tf.Tensor2D = x;
      layers.forEach(({ kernel, bias }, i) => {
        const activation = i === layers.length - 1 ? 'linear' : 'relu';
        h = tf.fused.matMul({ a: h, b: kernel as tf.Tensor2D, bias, activation }) as tf.Tensor2D;
      });
      return h;
    });
  const variables = layers.flatMap((l) => [l.kernel, l.bias]);
  return { layers, variables, predict, dispose: () => variables.forEach((v) => v.dispose()) };
}

/** A fixed synthetic classification batch: inputs in [0, 1), one-hot labels. */
export function syntheticBatch(n: number, inputs: number, classes: number, seed: number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  return tf.tidy(() => {
    const x = tf.randomUniform([n, inputs], 0, 1, 'float32', seed) as tf.Tensor2D;
    const labels = tf.randomUniform([n], 0, classes, 'float32', seed + 1).floor().toInt();
    return { x, y: tf.oneHot(labels as tf.Tensor1D, classes).toFloat() as tf.Tensor2D };
  });
}

/** One training step (forward, backward, optimizer update); returns the loss. */
export function trainStep(model: Mlp, optimizer: tf.Optimizer, x: tf.Tensor2D, y: tf.Tensor2D): number {
  const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.predict(x)) as tf.Scalar, true, model.variables);
  const value = loss?.dataSync()[0] ?? Number.NaN;
  loss?.dispose();
  return value;
}

/** Runs `steps` training steps on one fixed batch; returns the last loss. */
export function trainSteps(model: Mlp, optimizer: tf.Optimizer, x: tf.Tensor2D, y: tf.Tensor2D, steps: number): number {
  let loss = Number.NaN;
  for (let s = 0; s < steps; s++) loss = trainStep(model, optimizer, x, y);
  return loss;
}
