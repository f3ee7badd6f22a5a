import * as tf from '@tensorflow/tfjs';
import { Rng } from '../random/rng.js';

let dropoutRng = new Rng(0);

/**
 * Sets the generator every {@link SeededDropout} draws its masks from. The engine calls it once per
 * run with a generator derived from the pipeline seed, and checkpoints save `dropoutRandom().state()`.
 */
export function seedDropout(rng: Rng): void {
  dropoutRng = rng;
}

/** The generator dropout masks are drawn from (for checkpoints). */
export function dropoutRandom(): Rng {
  return dropoutRng;
}

/**
 * Dropout whose masks come from the run's seeded generator: a new mask every call, the same sequence
 * for the same seed. (tfjs' own Dropout either uses `Math.random` or, given a seed, the same mask at
 * every step.) It serialises as a plain `Dropout`, so exported models load anywhere; registering it
 * under that class name makes models loaded by Engram use the seeded masks too.
 */
export class SeededDropout extends tf.layers.Layer {
  static readonly className = 'Dropout';
  readonly rate: number;

  constructor(args: { rate: number; name?: string; noiseShape?: number[]; seed?: number }) {
    super(args.name === undefined ? {} : { name: args.name });
    this.rate = args.rate;
    this.supportsMasking = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!x) throw new Error('SeededDropout expects one input');
    if (kwargs['training'] !== true || this.rate <= 0) return x;
    const seed = dropoutRng.tfSeed();
    return tf.tidy(() => tf.dropout(x, this.rate, undefined, seed));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate };
  }
}

tf.serialization.registerClass(SeededDropout);
