// engram-strategy-l2-anchor: a complete third-party Engram strategy in plain ESM JavaScript.
//
// L2 anchoring (the "L2" baseline of Kirkpatrick et al. 2017, Fig. 2A): after each experience the
// strategy remembers the weights θ*, and while training later experiences it adds
//     penalty = λ/2 · Σ (θ − θ*)²
// to the loss, pulling every weight back toward where it was. Unlike EWC, all weights count equally.
import { ContainerModule, TOKENS, Type } from '@engram/core';
import * as tf from '@tensorflow/tfjs';

/** The options schema: a TypeBox object. The pipeline validator applies the defaults. */
export const L2AnchorOptions = Type.Object(
  {
    lambda: Type.Number({ minimum: 0, default: 1, description: 'Penalty strength λ; the loss adds λ/2 · Σ (θ − θ*)².' }),
  },
  { additionalProperties: false },
);

export class L2AnchorStrategy {
  name = 'l2-anchor';
  /** @type {tf.Tensor[]} copies of the weights at the end of the last experience, by position */
  anchor = [];

  /** @param {{ lambda: number }} options validated options */
  constructor(options) {
    this.lambda = options.lambda;
  }

  /** Inside the gradient tape: return the term to add; the trainer's tidy disposes it. */
  penalty(ctx) {
    if (this.anchor.length === 0) return undefined;
    const vars = ctx.model.trainableVariables();
    const terms = [];
    vars.forEach((v, i) => {
      const a = this.anchor[i];
      if (a && a.shape.join() === v.shape.join()) terms.push(tf.sum(tf.square(tf.sub(v, a))));
    });
    return terms.length > 0 ? tf.mul(tf.addN(terms), this.lambda / 2) : undefined;
  }

  /** At the end of an experience: remember the weights (tensors we own, so we dispose the old ones). */
  afterExperience(ctx) {
    this.dispose();
    this.anchor = ctx.model.trainableVariables().map((v) => tf.clone(v));
  }

  /** Checkpoints: JSON meta + raw float32 arrays, restored bit-exactly. */
  state() {
    const arrays = {};
    this.anchor.forEach((t, i) => {
      arrays[`anchor.${i}`] = { dtype: 'float32', shape: [...t.shape], data: Float32Array.from(t.dataSync()) };
    });
    return { meta: { count: this.anchor.length }, arrays };
  }

  restore(state) {
    const count = state.meta?.count;
    if (typeof count !== 'number') throw new Error('l2-anchor: the checkpoint has no anchor count');
    this.dispose();
    for (let i = 0; i < count; i++) {
      const a = state.arrays?.[`anchor.${i}`];
      if (!a) throw new Error(`l2-anchor: the checkpoint lacks anchor.${i}`);
      this.anchor.push(tf.tensor(Float32Array.from(a.data), [...a.shape], 'float32'));
    }
  }

  dispose() {
    for (const t of this.anchor) t.dispose();
    this.anchor = [];
  }
}

/** The plugin manifest: the default export. */
export default {
  name: 'engram-strategy-l2-anchor',
  apiVersion: 1,
  module: new ContainerModule(({ bind }) => {
    bind(TOKENS.Component).toConstantValue({
      role: 'strategy',
      kind: 'l2-anchor',
      description: 'L2 penalty toward the weights at the end of the previous experience (Kirkpatrick et al. 2017 baseline).',
      options: L2AnchorOptions,
      create: (options) => new L2AnchorStrategy(options),
    });
  }),
};
