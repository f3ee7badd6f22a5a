import * as tf from '@tensorflow/tfjs';
import {
  Type,
  type AfterBatchContext,
  type ComponentDescriptor,
  type ComponentServices,
  type EngramModel,
  type ExperienceContext,
  type LossContext,
  type SerializedState,
  type Static,
  type Strategy,
  type StreamInfo,
} from '@engram/core';
import { metaObject } from '../common/tensor-state.js';
import { HedgeModel } from './hedge.model.js';

/** Options of `hedge`. */
export const HedgeOptions = Type.Object(
  {
    beta: Type.Number({
      exclusiveMinimum: 0,
      exclusiveMaximum: 1,
      default: 0.99,
      description: 'Discount β: αₗ ← αₗ · β^{lossₗ} after every step.',
    }),
    s: Type.Number({
      minimum: 0,
      exclusiveMaximum: 1,
      default: 0.2,
      description: 'Smoothing s: every αₗ is kept ≥ s / (number of heads) before normalising.',
    }),
  },
  { additionalProperties: false },
);

/**
 * Online Deep Learning with Hedge Backpropagation (Sahoo, Pham, Lu & Hoi 2018, "Online Deep Learning:
 * Learning Deep Neural Networks on the Fly", IJCAI).
 *
 * - `adaptModel` (first experience) wraps a sequential network in a {@link HedgeModel}: a classifier
 *   head on every hidden Dense layer; the prediction is the α-weighted mixture (α uniform at start).
 * - `loss` returns Σₗ αₗ · CEₗ (each head's cross-entropy, backpropagated through its layers).
 * - `afterBatch` updates αₗ ← max(αₗ · β^{CEₗ}, s/L), then normalises α to sum 1.
 * Works in the endless stream mode, batch size 1 included. State = α (head weights live in the model).
 */
export class HedgeStrategy implements Strategy {
  readonly name = 'hedge';
  private alpha = new Float32Array(0);
  private pendingLosses: tf.Tensor | undefined;
  private model: HedgeModel | undefined;

  constructor(
    private readonly options: Static<typeof HedgeOptions>,
    private readonly services: ComponentServices,
  ) {}

  /** Current mixture weights α (a copy). */
  get weights(): Float32Array {
    return Float32Array.from(this.alpha);
  }

  adaptModel(ctx: ExperienceContext): EngramModel | void {
    if (ctx.model instanceof HedgeModel) return undefined;
    this.model = new HedgeModel(ctx.model.network, () => this.alpha, this.services.rng.derive('heads'));
    if (this.alpha.length !== this.model.heads)
      this.alpha = new Float32Array(this.model.heads).fill(1 / this.model.heads);
    return this.model;
  }

  /** A network this strategy grew heads on, seen as the α-weighted mixture the run evaluates (α as restored). */
  forEvaluation(model: EngramModel, _info: StreamInfo): EngramModel | undefined {
    if (model instanceof HedgeModel || !HedgeModel.isHedgeNetwork(model.network)) return undefined;
    const alpha = Float32Array.from(this.alpha);
    return new HedgeModel(model.network, () => alpha, this.services.rng.derive('heads'));
  }

  loss(ctx: LossContext): tf.Scalar | void {
    if (!(ctx.model instanceof HedgeModel)) return undefined;
    const heads = ctx.model.headLogits(ctx.x, { training: true, ...(ctx.batch.task ? { task: ctx.batch.task } : {}) });
    const losses = heads.map((z) => {
      const oneHot = tf.oneHot(ctx.y, z.shape[1] as number);
      return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(z as tf.Tensor2D)), 1)));
    });
    this.pendingLosses?.dispose();
    this.pendingLosses = tf.keep(tf.stack(losses));
    return tf.sum<tf.Scalar>(tf.mul(tf.stack(losses), tf.tensor1d(this.alpha)));
  }

  afterBatch(_ctx: AfterBatchContext): void {
    if (!this.pendingLosses) return;
    const losses = this.pendingLosses.dataSync();
    this.pendingLosses.dispose();
    this.pendingLosses = undefined;
    this.update(losses);
  }

  /** One Hedge step on the heads' losses: multiplicative discount, floor s/L, normalisation. */
  update(losses: ArrayLike<number>): void {
    const L = this.alpha.length;
    let sum = 0;
    for (let l = 0; l < L; l++) {
      const a = Math.max(
        (this.alpha[l] as number) * Math.pow(this.options.beta, losses[l] as number),
        this.options.s / L,
      );
      this.alpha[l] = a;
      sum += a;
    }
    for (let l = 0; l < L; l++) this.alpha[l] = (this.alpha[l] as number) / sum;
  }

  state(): SerializedState {
    return {
      meta: { heads: this.alpha.length },
      arrays: { alpha: { dtype: 'float32', shape: [this.alpha.length], data: Float32Array.from(this.alpha) } },
    };
  }

  restore(state: SerializedState): void {
    metaObject(state.meta, 'hedge');
    const a = state.arrays?.['alpha'];
    if (!a) throw new Error('hedge: the checkpointed state has no "alpha" weights');
    this.alpha = Float32Array.from(a.data);
  }

  dispose(): void {
    this.pendingLosses?.dispose();
    this.pendingLosses = undefined;
  }
}

/** Registration of `hedge`. */
export const hedgeDescriptors: ComponentDescriptor[] = [
  {
    role: 'strategy',
    kind: 'hedge',
    description:
      'Hedge Backpropagation (Sahoo et al. 2018): a head per hidden layer, predictions mixed by Hedge weights.',
    options: HedgeOptions,
    create: (o, services) => new HedgeStrategy(o as Static<typeof HedgeOptions>, services),
  },
];
