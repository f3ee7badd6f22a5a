import * as tf from '@tensorflow/tfjs';
import { ensureExclusive, heapOf, offsetOf } from '../wasm/wasm-backend.js';
import {
  allOnWasm,
  gradientEntries,
  penaltyTerms,
  stateSlot,
  variableNamed,
  type NativeApply,
  type StateSlot,
} from './optimizer-patch.js';

interface SgdState {
  readonly learningRate: number;
  incrementIterations(): void;
}

interface MomentumState extends SgdState {
  readonly momentum: number;
  readonly useNesterov: boolean;
  readonly accumulations: Array<StateSlot | undefined>;
}

/** SGD `p += -lr·g` natively, in place, in tfjs's float32 order (bit-identical to stock). */
export const nativeSgd: NativeApply = (optimizer, grads, { addon, backend }, penalties) => {
  const opt = optimizer as SgdState;
  const work: Array<[tf.Variable, tf.Tensor, Float64Array | undefined]> = [];
  for (const [i, [name, g]] of gradientEntries(grads).entries()) {
    if (g == null) continue;
    const value = variableNamed(name);
    const terms = value ? penaltyTerms(backend, penalties?.[i], value.size) : false;
    if (!value || terms === false || !allOnWasm(backend, [value, g]) || g.size !== value.size) return false;
    work.push([value, g, terms]);
  }
  let penalty = 0;
  for (const [value, g, terms] of work) {
    ensureExclusive(backend, value);
    penalty += addon.sgd(
      heapOf(backend),
      offsetOf(backend, value),
      offsetOf(backend, g),
      value.size,
      -opt.learningRate,
      terms,
    );
  }
  opt.incrementIterations();
  return penalty;
};

/** Momentum / Nesterov natively, in place; the accumulations stay the optimizer's `/momentum` slots. */
export const nativeMomentum: NativeApply = (optimizer, grads, { addon, backend }, penalties) => {
  const opt = optimizer as MomentumState;
  const work: Array<[tf.Variable, tf.Variable, tf.Tensor, Float64Array | undefined]> = [];
  for (const [i, [name, g]] of gradientEntries(grads).entries()) {
    const value = variableNamed(name);
    if (!value) return false;
    const acc = stateSlot(opt.accumulations, i, value, 'momentum').variable;
    if (g == null) continue;
    const terms = penaltyTerms(backend, penalties?.[i], value.size);
    if (terms === false || !allOnWasm(backend, [value, acc, g]) || g.size !== value.size) return false;
    work.push([value, acc, g, terms]);
  }
  let penalty = 0;
  for (const [value, acc, g, terms] of work) {
    ensureExclusive(backend, value);
    ensureExclusive(backend, acc);
    penalty += addon.momentum(
      heapOf(backend),
      offsetOf(backend, value),
      offsetOf(backend, acc),
      offsetOf(backend, g),
      value.size,
      -opt.learningRate,
      opt.momentum,
      opt.useNesterov,
      terms,
    );
  }
  opt.incrementIterations();
  return penalty;
};
