import * as tf from '@tensorflow/tfjs';
import {
  LayersEngramModel,
  Rng,
  type Batch,
  type ComponentServices,
  type EngramEventInput,
  type EngramModel,
  type EventSink,
  type Experience,
  type ExperienceContext,
  type StreamInfo,
  ArrayBatchSource,
} from '@engram/core';

/** Test-only helpers: hand-built contexts so hooks can be exercised without the engine. */

/** An event sink that records what it receives. */
export class RecordingSink implements EventSink {
  readonly events: EngramEventInput[] = [];
  emit(event: EngramEventInput): void {
    this.events.push(event);
  }
}

/** Component services with a fixed seed. */
export function services(seed = 1): ComponentServices {
  return { rng: new Rng(seed), seed, baseDir: '.', events: new RecordingSink(), path: '/strategy/0' };
}

/** A small seeded MLP `inputs → hidden… → classes` wrapped as an EngramModel. */
export function tinyMlp(
  inputs: number,
  hidden: readonly number[],
  classes: number,
  seed = 1,
  activation: 'relu' | 'tanh' = 'tanh',
): LayersEngramModel {
  const rng = new Rng(seed);
  const layers: tf.layers.Layer[] = [];
  hidden.forEach((units, i) => {
    layers.push(
      tf.layers.dense({
        units,
        activation,
        ...(i === 0 ? { inputShape: [inputs] } : {}),
        kernelInitializer: tf.initializers.glorotUniform({ seed: rng.tfSeed() }),
        biasInitializer: tf.initializers.randomNormal({ stddev: 0.1, seed: rng.tfSeed() }),
      }),
    );
  });
  layers.push(
    tf.layers.dense({
      units: classes,
      ...(hidden.length === 0 ? { inputShape: [inputs] } : {}),
      kernelInitializer: tf.initializers.glorotUniform({ seed: rng.tfSeed() }),
      biasInitializer: tf.initializers.randomNormal({ stddev: 0.1, seed: rng.tfSeed() }),
    }),
  );
  return new LayersEngramModel(tf.sequential({ layers }));
}

/** A batch from nested arrays. */
export function batchOf(x: number[][], y: number[], task?: number[]): Batch {
  const width = x[0]?.length ?? 0;
  return {
    x: Float32Array.from(x.flat()),
    y: Int32Array.from(y),
    sampleShape: [width],
    ...(task ? { task: Int32Array.from(task) } : {}),
  };
}

/** `n` random samples of `width` features, labels drawn from `classes`. */
export function randomBatch(n: number, width: number, classes: readonly number[], seed: number, task?: number): Batch {
  const rng = new Rng(seed);
  const x = new Float32Array(n * width);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const y = Int32Array.from({ length: n }, () => classes[rng.int(classes.length)] as number);
  // make the classes separable: shift feature (class mod width) by +2
  for (let i = 0; i < n; i++)
    x[i * width + ((y[i] as number) % width)] = (x[i * width + ((y[i] as number) % width)] as number) + 2;
  return { x, y, sampleShape: [width], ...(task !== undefined ? { task: new Int32Array(n).fill(task) } : {}) };
}

/** An experience over an in-memory batch. */
export function experienceOf(index: number, data: Batch, task?: number): Experience {
  const classes = [...new Set(data.y)].sort((a, b) => a - b);
  return { index, classes, train: new ArrayBatchSource(data), ...(task !== undefined ? { task } : {}) };
}

/** Stream info of a small synthetic scenario. */
export function infoOf(width: number, numClasses: number, tasks?: number): StreamInfo {
  return {
    inputShape: [width],
    numClasses,
    experiences: 2,
    scenario: 'test',
    ...(tasks !== undefined ? { tasks } : {}),
  };
}

/** Gradients of the mean cross-entropy of `model` on `batch`, keyed by variable name (caller disposes). */
export function gradientsOf(model: EngramModel, batch: Batch): tf.NamedTensorMap {
  return tf.tidy(() => {
    const x = tf.tensor(batch.x, [batch.y.length, ...batch.sampleShape]);
    const y = tf.oneHot(tf.tensor1d(batch.y, 'int32'), model.outputs());
    const task = batch.task ? { task: batch.task } : {};
    return tf.variableGrads(
      () => tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(y, model.forward(x, { training: true, ...task })),
      model.trainableVariables(),
    ).grads;
  });
}

/** An experience context around `model`. */
export function experienceContext(
  model: EngramModel,
  experience: Experience,
  info: StreamInfo,
  step = 0,
  onResetOptimizer: () => void = () => undefined,
): ExperienceContext {
  return {
    model,
    experience,
    info,
    mode: 'experiences',
    batchSize: 16,
    rng: new Rng(7),
    events: new RecordingSink(),
    step,
    gradientsOf: (b) => gradientsOf(model, b),
    resetOptimizer: onResetOptimizer,
  };
}
