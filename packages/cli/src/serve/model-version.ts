import * as tf from '@tensorflow/tfjs';
import { LayersEngramModel, type Batch, type SerializedState } from '@engram/core';
import type { PredictionView } from '@engram/core/internal';

/** Which model produced a prediction. */
export interface VersionInfo {
  /** Increases by one with every published version (1 = the first). */
  readonly version: number;
  /** Optimizer steps the weights had seen. */
  readonly step: number;
  /** Experience being trained when the weights were copied. */
  readonly experience: number;
}

/**
 * A model at one instant, copied to host memory (nothing shared with training): topology, weights,
 * and the states its predictions depend on besides the weights (fitted preprocessing, the strategies'
 * and adjustments' evaluation state, see `capturePredictionState`).
 */
export interface WeightSnapshot extends VersionInfo {
  readonly topology: tf.io.ModelJSON['modelTopology'];
  readonly specs: tf.io.WeightsManifestEntry[];
  readonly data: ArrayBuffer;
  readonly states: ReadonlyMap<string, SerializedState>;
}

/**
 * Copies `network`'s topology and weights synchronously — between two optimizer steps, so the copy
 * is never half-updated — into host memory, with `states` captured at the same instant. The copy
 * shares nothing with the training variables (some kernels update them in place).
 */
export function snapshotWeights(
  network: tf.LayersModel,
  info: VersionInfo,
  states: ReadonlyMap<string, SerializedState> = new Map(),
): WeightSnapshot {
  const weights = network.weights;
  const arrays = weights.map((w) => w.read().dataSync() as Float32Array);
  const total = arrays.reduce((n, a) => n + a.length, 0);
  const data = new Float32Array(total);
  let at = 0;
  for (const a of arrays) {
    data.set(a, at);
    at += a.length;
  }
  const specs = weights.map((w) => ({
    name: w.originalName,
    shape: [...w.shape] as number[],
    dtype: 'float32' as const,
  }));
  return {
    ...info,
    topology: network.toJSON(null, false),
    specs,
    data: data.buffer,
    states,
  };
}

/** The view of a plain network: its logits, no predictor, no preprocessing (exports, tests). */
export function plainView(network: tf.LayersModel): PredictionView {
  return {
    model: new LayersEngramModel(network),
    predictor: undefined,
    network,
    prepare: (b: Batch) => b,
    release: () => undefined,
    dispose: () => network.dispose(),
  };
}

/** What makes two networks interchangeable: the same topology (layers, names, shapes). */
export function topologyKey(topology: tf.io.ModelJSON['modelTopology']): string {
  return JSON.stringify(topology);
}

/**
 * Writes a snapshot's weights into `network` (built from the same topology), in place: a few host
 * copies instead of building a model (layers, variables, weight loading).
 * Returns false, changing nothing, when the weights' count or shapes differ.
 */
function writeWeights(network: tf.LayersModel, s: WeightSnapshot): boolean {
  const weights = network.weights;
  if (weights.length !== s.specs.length || weights.some((w, i) => w.shape.join(',') !== s.specs[i]?.shape.join(',')))
    return false;
  const values = new Float32Array(s.data);
  let at = 0;
  tf.tidy(() => {
    weights.forEach((w, i) => {
      const shape = (s.specs[i] as tf.io.WeightsManifestEntry).shape;
      const n = shape.reduce((a, b) => a * b, 1);
      (w.read() as tf.Variable).assign(tf.tensor(values.subarray(at, at + n), shape, 'float32'));
      at += n;
    });
  });
  return true;
}

/** A version's answer for `n` samples. */
export interface VersionPrediction {
  /** Class probabilities, row-major `[n, classes]`. */
  readonly probabilities: Float32Array;
  /** Arg-max class of every sample: the class the run's evaluation would predict. */
  readonly labels: Int32Array;
}

/**
 * One published model: its own network (built from a {@link WeightSnapshot} or loaded from a
 * checkpoint / export) seen through the run's evaluation {@link PredictionView}, answering
 * synchronously, so a request is computed by this version alone even if a newer one is published
 * meanwhile. It predicts what the run's evaluation predicts: the strategies' `predictor` when there is
 * one (iCaRL's nearest mean of exemplars), else the evaluation view's logits (multi-head masks by
 * task, Hedge's mixture of heads); probabilities are the softmax of those scores.
 */
export class ModelVersion {
  private disposed = false;
  /** Topology key of the snapshot it was built from (see {@link retire}). */
  private key: string | undefined;

  constructor(
    readonly info: VersionInfo,
    private readonly view: PredictionView,
    /** Whether the network already ends in a softmax (an export made with --softmax). */
    private readonly outputsProbabilities = false,
  ) {}

  /**
   * Builds a version from a snapshot (its own variables), seen through `viewOf` (default:
   * {@link plainView}). `spare` — a retired version's network, see {@link retire} — is reused when it
   * has the snapshot's topology (the weights are written into it), else disposed.
   */
  static async fromSnapshot(
    s: WeightSnapshot,
    viewOf: (network: tf.LayersModel, s: WeightSnapshot) => Promise<PredictionView> = async (n) => plainView(n),
    spare?: { readonly key: string; readonly network: tf.LayersModel },
  ): Promise<ModelVersion> {
    let network: tf.LayersModel;
    if (spare && spare.key === topologyKey(s.topology) && writeWeights(spare.network, s)) network = spare.network;
    else {
      spare?.network.dispose();
      network = await tf.loadLayersModel(
        tf.io.fromMemory({ modelTopology: s.topology, weightSpecs: s.specs, weightData: s.data }),
      );
    }
    let view: PredictionView;
    try {
      view = await viewOf(network, s);
    } catch (e) {
      network.dispose();
      throw e;
    }
    const version = new ModelVersion({ version: s.version, step: s.step, experience: s.experience }, view);
    version.key = topologyKey(s.topology);
    return version;
  }

  /** The network this version predicts with. */
  get network(): tf.LayersModel {
    return this.view.network;
  }

  /** Shape of one sample as the network takes it. */
  get inputShape(): number[] {
    return (this.view.model.network.inputs[0]?.shape ?? []).slice(1).map((d) => d ?? 1);
  }

  /** True when predictions need each sample's task label (a task-incremental multi-head model). */
  get takesTask(): boolean {
    return this.view.model.takesTask === true;
  }

  /** The pipeline's preprocessing (test phase) as fitted when this version was published. */
  prepare(batch: Batch): Batch {
    return this.view.prepare(batch);
  }

  /**
   * Class probabilities of `n` samples, row-major in `x` (already preprocessed), with their task
   * labels when the model takes them. Synchronous: no other work (a publish, a training step)
   * interleaves with it.
   */
  predict(x: Float32Array, n: number, task?: Int32Array): Float32Array {
    return this.classify(x, n, task).probabilities;
  }

  /**
   * The network's raw outputs for `n` samples, row-major `[n, outputs]`: a regression run's predicted
   * values (see {@link predict} for the inputs). Synchronous like {@link predict}.
   */
  values(x: Float32Array, n: number, task?: Int32Array): Float32Array {
    if (this.disposed) throw new Error(`model version ${this.info.version} was disposed`);
    const out = tf.tidy(() => {
      const input = tf.tensor(x, [n, ...this.inputShape]);
      const y = this.view.model.forward(input, { training: false, ...(task ? { task } : {}) }) as
        tf.Tensor | tf.Tensor[];
      return Array.isArray(y) ? (y[0] as tf.Tensor) : y;
    });
    try {
      return (out.dataSync() as Float32Array).slice();
    } finally {
      out.dispose();
    }
  }

  /** Probabilities and arg-max labels of `n` samples (see {@link predict}). */
  classify(x: Float32Array, n: number, task?: Int32Array): VersionPrediction {
    if (this.disposed) throw new Error(`model version ${this.info.version} was disposed`);
    const [probs, labels] = tf.tidy((): [tf.Tensor, tf.Tensor] => {
      const input = tf.tensor(x, [n, ...this.inputShape]);
      const { model, predictor } = this.view;
      let scores: tf.Tensor;
      if (predictor) scores = predictor(input);
      else {
        const out = model.forward(input, { training: false, ...(task ? { task } : {}) }) as tf.Tensor | tf.Tensor[];
        scores = Array.isArray(out) ? (out[0] as tf.Tensor) : out;
      }
      const p = this.outputsProbabilities && !predictor ? scores : tf.softmax(scores);
      return [p, tf.argMax(scores, -1)];
    });
    try {
      return { probabilities: (probs.dataSync() as Float32Array).slice(), labels: Int32Array.from(labels.dataSync()) };
    } finally {
      probs.dispose();
      labels.dispose();
    }
  }

  /**
   * Ends the version but keeps its network for the next build (see {@link fromSnapshot}): frees its
   * view's components and returns the network with its topology key. The version answers nothing after.
   */
  retire(): { readonly key: string; readonly network: tf.LayersModel } | undefined {
    if (this.disposed) return undefined;
    this.disposed = true;
    this.view.release();
    const network = this.view.network;
    return { key: this.key ?? topologyKey(network.toJSON(null, false)), network };
  }

  /** Frees the version's variables and its view's components. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.view.dispose();
  }
}
