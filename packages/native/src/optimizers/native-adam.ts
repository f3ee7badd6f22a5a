import * as tf from '@tensorflow/tfjs';
import { ensureExclusive, heapOf, offsetOf } from '../wasm/wasm-backend.js';
import {
  allOnWasm,
  gradientEntries,
  penaltyTerms,
  readScalar,
  stateSlot,
  variableNamed,
  writeScalar,
  type NativeApply,
  type StateSlot,
} from './optimizer-patch.js';

/** The AdamOptimizer fields the native update reads and writes (tfjs 4.22 internals). */
interface AdamState {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly accBeta1: tf.Variable;
  readonly accBeta2: tf.Variable;
  readonly accumulatedFirstMoment: Array<StateSlot | undefined>;
  readonly accumulatedSecondMoment: Array<StateSlot | undefined>;
  incrementIterations(): void;
}

/**
 * Adam's whole update (moments, bias correction, parameter; plus any fused penalty gradient) in one native pass per variable,
 * in place, with tfjs's float32 operation order: parameters, `m`, `v`, `accBeta1/2` and
 * `iterations` end up bit-identical to stock tfjs Adam, so `getWeights()` checkpoints are unchanged.
 */
export const nativeAdam: NativeApply = (optimizer, grads, { addon, backend }, penalties) => {
  const opt = optimizer as AdamState;
  const entries = gradientEntries(grads);
  const work: Array<{
    value: tf.Variable;
    m: tf.Variable;
    v: tf.Variable;
    g: tf.Tensor;
    terms: Float64Array | undefined;
  }> = [];
  for (const [i, [name, g]] of entries.entries()) {
    const value = variableNamed(name);
    if (!value) return false;
    const m = stateSlot(opt.accumulatedFirstMoment, i, value, 'm').variable;
    const v = stateSlot(opt.accumulatedSecondMoment, i, value, 'v').variable;
    if (g == null) continue;
    const terms = penaltyTerms(backend, penalties?.[i], value.size);
    if (terms === false || !allOnWasm(backend, [value, m, v, g]) || g.size !== value.size) return false;
    work.push({ value, m, v, g, terms });
  }
  if (!allOnWasm(backend, [opt.accBeta1, opt.accBeta2])) return false;
  const accBeta1 = readScalar(backend, opt.accBeta1),
    accBeta2 = readScalar(backend, opt.accBeta2);
  const oneMinusAcc1 = Math.fround(1 - accBeta1),
    oneMinusAcc2 = Math.fround(1 - accBeta2);
  let penalty = 0;
  for (const { value, m, v, g, terms } of work) {
    ensureExclusive(backend, value);
    ensureExclusive(backend, m);
    ensureExclusive(backend, v);
    penalty += addon.adam(
      heapOf(backend),
      offsetOf(backend, value),
      offsetOf(backend, m),
      offsetOf(backend, v),
      offsetOf(backend, g),
      value.size,
      opt.beta1,
      1 - opt.beta1,
      opt.beta2,
      1 - opt.beta2,
      oneMinusAcc1,
      oneMinusAcc2,
      opt.epsilon,
      -opt.learningRate,
      terms,
    );
  }
  ensureExclusive(backend, opt.accBeta1);
  ensureExclusive(backend, opt.accBeta2);
  writeScalar(backend, opt.accBeta1, Math.fround(accBeta1 * Math.fround(opt.beta1)));
  writeScalar(backend, opt.accBeta2, Math.fround(accBeta2 * Math.fround(opt.beta2)));
  opt.incrementIterations();
  return penalty;
};
