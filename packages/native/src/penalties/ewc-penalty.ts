import * as tf from '@tensorflow/tfjs';
import { loadAddon } from '../addon/native-addon.js';
import { replacedKernels } from '../kernels/kernel-registry.js';
import { findWasmBackend, heapOf, offsetOf, type WasmBackend } from '../wasm/wasm-backend.js';

/** One EWC-style quadratic term: importance-weighted distance of a parameter from its anchor. */
export interface QuadraticTerm {
  /** The parameter θ (usually a trainable variable). */
  readonly param: tf.Tensor;
  /** The anchor θ* (the parameter after the previous experience). */
  readonly anchor: tf.Tensor;
  /** The per-element importance F (Fisher diagonal, SI or MAS weights). */
  readonly importance: tf.Tensor;
}

function pureTfjs(terms: readonly QuadraticTerm[], scale: number): tf.Scalar {
  return tf.tidy(() => {
    const sums = terms.map((t) => tf.sum(tf.mul(t.importance, tf.square(tf.sub(t.param, t.anchor)))));
    return tf.mul<tf.Scalar>(sums.length === 1 ? (sums[0] as tf.Scalar) : tf.addN(sums), scale);
  });
}

function onWasm(backend: WasmBackend, terms: readonly QuadraticTerm[]): boolean {
  return terms.every((t) =>
    [t.param, t.anchor, t.importance].every((x) => offsetOf(backend, x) >= 0 && x.size === t.param.size),
  );
}

/**
 * `scale · Σ F·(θ−θ*)²` over all terms (EWC / SI / MAS penalties), differentiable w.r.t. every θ.
 * With the native kernels loaded on wasm, value and gradient are each one native pass per parameter
 * (instead of ~8 tfjs kernels); otherwise the same formula runs as tfjs ops. The native sum is
 * accumulated in double, so it can differ from the tfjs path in the last float bits.
 */
export function quadraticPenalty(terms: readonly QuadraticTerm[], scale: number): tf.Scalar {
  const addon = loadAddon();
  const backend = tf.getBackend() === 'wasm' ? findWasmBackend() : undefined;
  if ('error' in addon || !backend || replacedKernels().length === 0 || terms.length === 0 || !onWasm(backend, terms)) {
    return pureTfjs(terms, scale);
  }
  const native = addon.addon;
  const penalty = tf.customGrad((...args: Array<tf.Tensor | ((tensors: tf.Tensor[]) => void)>) => {
    const params = args.slice(0, terms.length) as tf.Tensor[];
    const save = args[terms.length] as (tensors: tf.Tensor[]) => void;
    // One native pass per term computes the value and the gradient; the backward pass only scales.
    let total = 0;
    const grads = terms.map((t, i) => {
      const p = params[i] ?? t.param;
      const out = backend.makeOutput(p.shape.slice(), 'float32');
      total += native.ewcPenaltyGrad(
        heapOf(backend),
        offsetOf(backend, p),
        offsetOf(backend, t.anchor),
        offsetOf(backend, t.importance),
        offsetOf(backend, out),
        p.size,
        2 * scale,
      );
      return tf.engine().makeTensorFromTensorInfo(out);
    });
    save(grads);
    // dy is exactly 1 when the penalty is added to the loss: then the saved gradients are the answer
    // (a clone shares the buffer, no copy); otherwise they are scaled by dy.
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] =>
      dy.dataSync()[0] === 1 ? saved.map((g) => tf.clone(g)) : saved.map((g) => tf.mul(g, dy));
    return { value: tf.scalar(Math.fround(scale * total)), gradFunc };
  });
  return penalty(...terms.map((t) => t.param));
}
