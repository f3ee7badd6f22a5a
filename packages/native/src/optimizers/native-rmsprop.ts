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

/** The RMSPropOptimizer fields the native update reads and writes (tfjs 4.22 internals). */
interface RmsPropState {
  readonly learningRate: number;
  readonly decay: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly centered: boolean;
  readonly accumulatedMeanSquares: Array<StateSlot | undefined>;
  readonly accumulatedMoments: Array<StateSlot | undefined>;
  readonly accumulatedMeanGrads: Array<StateSlot | undefined>;
  incrementIterations(): void;
}

interface Work {
  readonly value: tf.Variable;
  readonly ms: tf.Variable;
  readonly mom: tf.Variable;
  readonly mg: tf.Variable | undefined;
  readonly g: tf.Tensor;
  readonly terms: Float64Array | undefined;
}

/**
 * RMSProp (plain and centered) in one native pass per variable, in place, in tfjs's float32 order;
 * the `/rms`, `/momentum` and `/mg` slots are the optimizer's own, so `getWeights()` is unchanged.
 */
export const nativeRmsProp: NativeApply = (optimizer, grads, { addon, backend }, penalties) => {
  const opt = optimizer as RmsPropState;
  const work: Work[] = [];
  for (const [i, [name, g]] of gradientEntries(grads).entries()) {
    const value = variableNamed(name);
    if (!value) return false;
    const ms = stateSlot(opt.accumulatedMeanSquares, i, value, 'rms').variable;
    const mom = stateSlot(opt.accumulatedMoments, i, value, 'momentum').variable;
    const mg = opt.centered ? stateSlot(opt.accumulatedMeanGrads, i, value, 'mg').variable : undefined;
    if (g == null) continue;
    const terms = penaltyTerms(backend, penalties?.[i], value.size);
    if (
      terms === false ||
      !allOnWasm(backend, mg ? [value, ms, mom, mg, g] : [value, ms, mom, g]) ||
      g.size !== value.size
    )
      return false;
    work.push({ value, ms, mom, mg, g, terms });
  }
  let penalty = 0;
  for (const { value, ms, mom, mg, g, terms } of work) {
    for (const v of mg ? [value, ms, mom, mg] : [value, ms, mom]) ensureExclusive(backend, v);
    penalty += addon.rmsprop(
      heapOf(backend),
      offsetOf(backend, value),
      offsetOf(backend, ms),
      offsetOf(backend, mom),
      mg ? offsetOf(backend, mg) : -1,
      offsetOf(backend, g),
      value.size,
      opt.decay,
      1 - opt.decay,
      opt.momentum,
      opt.learningRate,
      opt.epsilon,
      terms,
    );
  }
  opt.incrementIterations();
  return penalty;
};
