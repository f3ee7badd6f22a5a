import * as tf from '@tensorflow/tfjs';
import { ensureExclusive, heapOf, offsetOf } from '../wasm/wasm-backend.js';
import { allOnWasm, gradientEntries, stateSlot, variableNamed, type NativeApply, type StateSlot } from './optimizer-patch.js';

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
export const nativeSgd: NativeApply = (optimizer, grads, { addon, backend }) => {
  const opt = optimizer as SgdState;
  const work: Array<[tf.Variable, tf.Tensor]> = [];
  for (const [name, g] of gradientEntries(grads)) {
    if (g == null) continue;
    const value = variableNamed(name);
    if (!value || !allOnWasm(backend, [value, g]) || g.size !== value.size) return false;
    work.push([value, g]);
  }
  for (const [value, g] of work) {
    ensureExclusive(backend, value);
    addon.sgd(heapOf(backend), offsetOf(backend, value), offsetOf(backend, g), value.size, -opt.learningRate);
  }
  opt.incrementIterations();
  return true;
};

/** Momentum / Nesterov natively, in place; the accumulations stay the optimizer's `/momentum` slots. */
export const nativeMomentum: NativeApply = (optimizer, grads, { addon, backend }) => {
  const opt = optimizer as MomentumState;
  const work: Array<[tf.Variable, tf.Variable, tf.Tensor]> = [];
  for (const [i, [name, g]] of gradientEntries(grads).entries()) {
    const value = variableNamed(name);
    if (!value) return false;
    const acc = stateSlot(opt.accumulations, i, value, 'momentum').variable;
    if (g == null) continue;
    if (!allOnWasm(backend, [value, acc, g]) || g.size !== value.size) return false;
    work.push([value, acc, g]);
  }
  for (const [value, acc, g] of work) {
    ensureExclusive(backend, value);
    ensureExclusive(backend, acc);
    addon.momentum(heapOf(backend), offsetOf(backend, value), offsetOf(backend, acc), offsetOf(backend, g),
      value.size, -opt.learningRate, opt.momentum, opt.useNesterov);
  }
  opt.incrementIterations();
  return true;
};
