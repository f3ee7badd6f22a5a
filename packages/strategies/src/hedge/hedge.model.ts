import * as tf from '@tensorflow/tfjs';
import { LayersEngramModel, type ForwardOptions, type Rng } from '@engram/core';

/** Layer-name prefix of the extra heads. */
const HEAD_PREFIX = 'hedge_head_';

/**
 * The Online Deep Learning network of Hedge Backpropagation (Sahoo et al. 2018): the base network's
 * layers with an extra linear classifier head on every hidden Dense layer's output, plus the base
 * output layer as the deepest head. `network` is a functional model whose outputs are the head logits
 * (shallowest first), so checkpoints save the heads with the body.
 *
 * `forward` returns the logits of the α-weighted mixture: log Σₗ αₗ softmax(zₗ) (a log-probability
 * vector, so softmax/argmax/cross-entropy of it are those of the mixture).
 */
export class HedgeModel extends LayersEngramModel {
  private cache: { x: tf.Tensor; heads: tf.Tensor[] } | undefined;
  private readonly base: tf.LayersModel | undefined;

  /**
   * @param base a sequential network to grow heads on, or a network this class built before and a
   *   checkpoint restored (outputs = the head logits), which is adopted as is
   * @param weights current mixture weights α (one per head), read at every forward pass
   */
  constructor(
    base: tf.LayersModel,
    private readonly weights: () => Float32Array,
    rng: Rng,
  ) {
    const adopted = HedgeModel.isHedgeNetwork(base);
    super(adopted ? base : HedgeModel.withHeads(base, rng));
    this.base = adopted ? undefined : base;
  }

  /** A functional network with a linear head on every hidden Dense output, the base output last. */
  private static withHeads(base: tf.LayersModel, rng: Rng): tf.LayersModel {
    if (base.getClassName() !== 'Sequential')
      throw new Error('hedge needs a sequential model (an "mlp" or a layer list)');
    const layers = base.layers.filter((l) => l.getClassName() !== 'InputLayer');
    const dense = layers.filter((l) => l.getClassName() === 'Dense');
    const last = layers[layers.length - 1];
    if (!last || last.getClassName() !== 'Dense' || dense.length < 2) {
      throw new Error('hedge needs at least one hidden Dense layer and a Dense output layer (the logits) at the end');
    }
    const classes = (last.getConfig() as { units: number }).units;
    const inShape = (base.inputs[0]?.shape ?? []).slice(1) as number[];
    const input = tf.input({ shape: inShape });
    let h: tf.SymbolicTensor = input;
    const outputs: tf.SymbolicTensor[] = [];
    layers.forEach((layer, i) => {
      h = layer.apply(h) as tf.SymbolicTensor;
      if (layer.getClassName() === 'Dense' && i < layers.length - 1) {
        const head = tf.layers.dense({
          units: classes,
          name: `${HEAD_PREFIX}${outputs.length}`,
          kernelInitializer: tf.initializers.glorotUniform({ seed: rng.tfSeed() }),
        });
        outputs.push(head.apply(h) as tf.SymbolicTensor);
      }
    });
    outputs.push(h);
    return tf.model({ inputs: input, outputs });
  }

  /** True for a network built by this class (e.g. rebuilt from a checkpoint's topology). */
  static isHedgeNetwork(network: tf.LayersModel): boolean {
    return network.outputs.length > 1 && network.layers.some((l) => l.name.startsWith(HEAD_PREFIX));
  }

  /** Number of heads (hidden Dense layers + the output layer). */
  get heads(): number {
    return this.network.outputs.length;
  }

  /** Logits of every head on `x` (reuses the tensors of the last `forward` on the same `x`). */
  headLogits(x: tf.Tensor, options: ForwardOptions): tf.Tensor[] {
    if (this.cache && this.cache.x === x && this.cache.heads.every((t) => !t.isDisposed)) return this.cache.heads;
    const out = this.network.apply(x, { training: options.training });
    return (Array.isArray(out) ? out : [out]) as tf.Tensor[];
  }

  override forward(x: tf.Tensor, options: ForwardOptions): tf.Tensor {
    const heads = this.headLogits(x, options);
    this.cache = { x, heads };
    const a = this.weights();
    return tf.tidy(() => {
      const parts = heads.map((z, l) => tf.add(tf.logSoftmax(z as tf.Tensor2D), Math.log(Math.max(a[l] ?? 0, 1e-30))));
      return tf.logSumExp(tf.stack(parts), 0);
    });
  }

  /** Frees the heads and the wrapped base network (layers are reference-counted per container). */
  override dispose(): void {
    this.cache = undefined;
    this.network.dispose();
    try {
      this.base?.dispose();
    } catch {
      // the base network was already disposed by its previous owner
    }
  }
}
