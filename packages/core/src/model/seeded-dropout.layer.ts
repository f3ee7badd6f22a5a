import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../random/rng.js';

/**
 * Dropout whose masks come from its run's seeded generator: a new mask every call, the same sequence
 * for the same seed. (tfjs' own Dropout either uses `Math.random` or, given a seed, the same mask at
 * every step.) The generator is the run's (`RunContext.dropout`), given at build time by the model
 * builder, or attached with {@link attachDropoutRandom} to a model tfjs loaded — so two runs in one
 * process draw from their own generators. It serialises as a plain `Dropout`, so exported models load
 * anywhere; registering it under that class name makes models loaded by Engram use the seeded masks.
 */
export class SeededDropout extends tf.layers.Layer {
  static readonly className = 'Dropout';
  readonly rate: number;
  /** The generator masks are drawn from; training without one is an error (inference needs none). */
  random: Rng | undefined;

  constructor(args: { rate: number; name?: string; noiseShape?: number[]; seed?: number; random?: Rng }) {
    super(args.name === undefined ? {} : { name: args.name });
    this.rate = args.rate;
    this.random = args.random;
    this.supportsMasking = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!x) throw new Error('SeededDropout expects one input');
    if (kwargs['training'] !== true || this.rate <= 0) return x;
    if (!this.random)
      throw new Error(
        `dropout layer "${this.name}" has no random generator: attach the run's with attachDropoutRandom(model, rng)`,
      );
    const seed = this.random.tfSeed();
    return tf.tidy(() => tf.dropout(x, this.rate, undefined, seed));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate };
  }
}

tf.serialization.registerClass(SeededDropout);

/** Gives `rng` to every {@link SeededDropout} in `network` (also inside nested models). */
export function attachDropoutRandom(network: tf.LayersModel, rng: Rng): void {
  const visit = (layers: readonly tf.layers.Layer[]): void => {
    for (const layer of layers) {
      if (layer instanceof SeededDropout) layer.random = rng;
      else if (layer instanceof tf.LayersModel) visit(layer.layers);
    }
  };
  visit(network.layers);
}
