import * as tf from '@tensorflow/tfjs';
import {
  gruSequenceBackwardOps,
  gruSequenceForwardOps,
  type GruGate,
  type GruSequenceCache,
  type GruSequenceGrads,
} from './gru-sequence-ops.js';

export type { GruGate } from './gru-sequence-ops.js';

/**
 * Name of the optional fused kernel for a whole reset-after GRU sequence's forward pass. A backend
 * that registers it (`@engram/native` does, on wasm) runs the loop in one call. Inputs `{ xw [batch,
 * steps, 3·units], recurrent [units, 3·units], recurrentBias [3·units] }`, attribute `{ gate:
 * 'sigmoid' | 'hardSigmoid' }`; outputs, float32: `states [batch, steps, units]` (h_1 … h_T),
 * `zr [batch, steps, 2·units]` (gates after activation), `n [batch, steps, units]` (candidate after
 * tanh), `hn [batch, steps, units]` (h_{t−1}·Rh + rh). The state starts at zero.
 */
export const GRU_SEQUENCE_KERNEL = 'EngramGruSequence';

/**
 * Name of the optional fused kernel for the sequence's backward pass. Inputs `{ dy, recurrent,
 * states, zr, n, hn }` (`dy`: `[batch, steps, units]` for every state or `[batch, units]` for the
 * last; the rest as {@link GRU_SEQUENCE_KERNEL} gave them), attribute `{ gate }`; outputs `dxw
 * [batch, steps, 3·units]`, `dRecurrent [units, 3·units]`, `dRecurrentBias [3·units]`.
 */
export const GRU_SEQUENCE_GRAD_KERNEL = 'EngramGruSequenceGrad';

/** Options of {@link gruSequence}. */
export interface GruSequenceOptions {
  /** The update/reset gate activation (the candidate's is tanh). */
  readonly gate: GruGate;
  /** Return every state `[batch, steps, units]` instead of the last `[batch, units]`. */
  readonly returnSequences: boolean;
}

const hasKernel = (name: string): boolean => tf.getKernel(name, tf.getBackend()) !== undefined;

/** Whether the active backend has both fused GRU kernels ({@link GRU_SEQUENCE_KERNEL} and its gradient). */
export function hasFusedGruKernels(): boolean {
  return hasKernel(GRU_SEQUENCE_KERNEL) && hasKernel(GRU_SEQUENCE_GRAD_KERNEL);
}

function forward(xw: tf.Tensor3D, recurrent: tf.Tensor2D, bias: tf.Tensor1D, gate: GruGate): GruSequenceCache {
  if (!hasKernel(GRU_SEQUENCE_KERNEL)) return gruSequenceForwardOps(xw, recurrent, bias, gate);
  const outputs: tf.Tensor | tf.Tensor[] = tf
    .engine()
    .runKernel(GRU_SEQUENCE_KERNEL, { xw, recurrent, recurrentBias: bias }, { gate });
  const [states, zr, n, hn] = outputs as tf.Tensor3D[];
  if (!states || !zr || !n || !hn) throw new Error(`${GRU_SEQUENCE_KERNEL} returned fewer than 4 outputs`);
  return { states, zr, n, hn };
}

function backward(dy: tf.Tensor, recurrent: tf.Tensor2D, cache: GruSequenceCache, gate: GruGate): GruSequenceGrads {
  if (!hasKernel(GRU_SEQUENCE_GRAD_KERNEL)) return gruSequenceBackwardOps(dy, recurrent, cache, gate);
  const inputs = { dy, recurrent, ...cache };
  const outputs: tf.Tensor | tf.Tensor[] = tf.engine().runKernel(GRU_SEQUENCE_GRAD_KERNEL, inputs, { gate });
  const [dxw, dRecurrent, dRecurrentBias] = outputs as [tf.Tensor3D, tf.Tensor2D, tf.Tensor1D];
  return { dxw, dRecurrent, dRecurrentBias };
}

function lastStep(states: tf.Tensor3D): tf.Tensor2D {
  const [batch, steps, units] = states.shape;
  return tf.reshape(tf.slice(states, [0, steps - 1, 0], [batch, 1, units]), [batch, units]);
}

/**
 * The reset-after GRU's recurrence over a whole sequence as ONE differentiable op (`tf.customGrad`):
 * from the input projection `xw = x·W + bx` (`[batch, steps, 3·units]`, gates z, r, h), the recurrent
 * kernel `[units, 3·units]` and recurrent bias `[3·units]`, starting from a zero state. The forward pass
 * keeps the gate values; the backward pass is hand-written backpropagation through time, so a training
 * step runs a few large ops instead of autodiff's many small ones per step. Both passes use the fused
 * {@link GRU_SEQUENCE_KERNEL} / {@link GRU_SEQUENCE_GRAD_KERNEL} when the active backend has them, else
 * tfjs ops. Called by `EngramGRU` for every forward pass (training or not); allocates only its output
 * (and, under a gradient tape, the kept cache, freed by backprop).
 */
export function gruSequence(
  xw: tf.Tensor3D,
  recurrent: tf.Tensor2D,
  recurrentBias: tf.Tensor1D,
  options: GruSequenceOptions,
): tf.Tensor {
  const { gate, returnSequences } = options;
  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, r, b, save] = args as [tf.Tensor3D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    const cache = forward(x, r, b, gate);
    save([r, cache.states, cache.zr, cache.n, cache.hn]);
    const value = returnSequences ? cache.states : lastStep(cache.states);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
        const [rs, states, zr, n, hn] = saved as [tf.Tensor2D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
        const grads = backward(dy, rs, { states, zr, n, hn }, gate);
        return [grads.dxw, grads.dRecurrent, grads.dRecurrentBias];
      },
    };
  });
  return run(xw, recurrent, recurrentBias);
}
