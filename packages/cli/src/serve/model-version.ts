import * as tf from '@tensorflow/tfjs';

/** Which model produced a prediction. */
export interface VersionInfo {
  /** Increases by one with every published version (1 = the first). */
  readonly version: number;
  /** Optimizer steps the weights had seen. */
  readonly step: number;
  /** Experience being trained when the weights were copied. */
  readonly experience: number;
}

/** The weights and topology of a model at one instant, copied to host memory (nothing shared with training). */
export interface WeightSnapshot extends VersionInfo {
  readonly topology: tf.io.ModelJSON['modelTopology'];
  readonly specs: tf.io.WeightsManifestEntry[];
  readonly data: ArrayBuffer;
}

/**
 * Copies `network`'s topology and weights synchronously — between two optimizer steps, so the copy
 * is never half-updated — into host memory. The copy shares nothing with the training variables
 * (some kernels update them in place).
 */
export function snapshotWeights(network: tf.LayersModel, info: VersionInfo): WeightSnapshot {
  const weights = network.weights;
  const arrays = weights.map((w) => w.read().dataSync() as Float32Array);
  const total = arrays.reduce((n, a) => n + a.length, 0);
  const data = new Float32Array(total);
  let at = 0;
  for (const a of arrays) {
    data.set(a, at);
    at += a.length;
  }
  const specs = weights.map((w) => ({ name: w.originalName, shape: [...w.shape] as number[], dtype: 'float32' as const }));
  return { ...info, topology: network.toJSON(null, false) as tf.io.ModelJSON['modelTopology'], specs, data: data.buffer };
}

/**
 * One published model: its own tfjs model (built from a {@link WeightSnapshot} or loaded from a
 * checkpoint / export), answering predictions synchronously, so a request is computed by this
 * version alone even if a newer one is published meanwhile.
 */
export class ModelVersion {
  private disposed = false;

  constructor(
    readonly info: VersionInfo,
    private readonly network: tf.LayersModel,
    /** Whether the network already ends in a softmax (an export made with --softmax). */
    private readonly outputsProbabilities = false,
  ) {}

  /** Builds a version from a snapshot (its own variables). */
  static async fromSnapshot(s: WeightSnapshot): Promise<ModelVersion> {
    const network = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: s.topology, weightSpecs: s.specs, weightData: s.data }));
    return new ModelVersion({ version: s.version, step: s.step, experience: s.experience }, network);
  }

  /** Shape of one sample as the network takes it. */
  get inputShape(): number[] {
    return (this.network.inputs[0]?.shape ?? []).slice(1).map((d) => d ?? 1);
  }

  /**
   * Class probabilities (softmax of the first output's logits) of `n` samples, row-major in `x`.
   * Synchronous: no other work (a publish, a training step) interleaves with it.
   */
  predict(x: Float32Array, n: number): Float32Array {
    if (this.disposed) throw new Error(`model version ${this.info.version} was disposed`);
    const probs = tf.tidy(() => {
      const out = this.network.predict(tf.tensor(x, [n, ...this.inputShape]));
      const first = Array.isArray(out) ? (out[0] as tf.Tensor) : out;
      return this.outputsProbabilities ? first : tf.softmax(first);
    });
    try {
      return (probs.dataSync() as Float32Array).slice();
    } finally {
      probs.dispose();
    }
  }

  /** Frees the version's variables. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.network.dispose();
  }
}
