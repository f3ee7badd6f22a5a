import * as tf from '@tensorflow/tfjs';

/** Gate activations the fused GRU sequence supports (the candidate is always tanh). */
export type GruGate = 'sigmoid' | 'hardSigmoid';

/**
 * What the forward pass over a whole sequence keeps for its hand-written backward pass, each
 * `[batch, steps, ·]`: every state `h_1 … h_T`, the gates `z, r` (concatenated, after the gate
 * activation), the candidate `n` (after tanh) and the recurrent candidate term `hn = h·Rh + rh`.
 */
export interface GruSequenceCache {
  readonly states: tf.Tensor3D;
  readonly zr: tf.Tensor3D;
  readonly n: tf.Tensor3D;
  readonly hn: tf.Tensor3D;
}

function gate(kind: GruGate, x: tf.Tensor): tf.Tensor {
  return kind === 'sigmoid' ? tf.sigmoid(x) : tf.clipByValue(tf.add(0.5, tf.mul(0.2, x)), 0, 1);
}

/** The gate's derivative from its output `y`: `y(1−y)`, or 0.2 where the hard sigmoid is not clipped. */
function gateDerivative(kind: GruGate, y: tf.Tensor): tf.Tensor {
  if (kind === 'sigmoid') return tf.mul(y, tf.sub(1, y));
  return tf.mul(0.2, tf.cast(tf.logicalAnd(tf.greater(y, 0), tf.less(y, 1)), 'float32'));
}

/**
 * The reset-after GRU over a whole sequence with tfjs ops, from the input projection
 * `xw = x·W + bx` (`[batch, steps, 3·units]`, gates z, r, h) and the recurrent kernel `[units, 3·units]`
 * and bias `[3·units]`; the state starts at zero. Called inside the sequence's `customGrad` when no
 * fused kernel is registered for the backend (no tape records these ops). Returns new tensors only.
 */
export function gruSequenceForwardOps(
  xw: tf.Tensor3D,
  recurrent: tf.Tensor2D,
  recurrentBias: tf.Tensor1D,
  kind: GruGate,
): GruSequenceCache {
  return tf.tidy(() => {
    const [batch, , width] = xw.shape;
    const u = width / 3;
    const [xzrAll, xnAll] = tf.split(xw, [2 * u, u], 2);
    const xzr = tf.unstack(xzrAll as tf.Tensor, 1);
    const xn = tf.unstack(xnAll as tf.Tensor, 1);
    let h: tf.Tensor = tf.zeros([batch, u]);
    const states: tf.Tensor[] = [];
    const zrs: tf.Tensor[] = [];
    const ns: tf.Tensor[] = [];
    const hns: tf.Tensor[] = [];
    xzr.forEach((xt, t) => {
      const hr = tf.add(tf.matMul(h, recurrent), recurrentBias);
      const [hzr, hn] = tf.split(hr, [2 * u, u], 1) as [tf.Tensor, tf.Tensor];
      const zr = gate(kind, tf.add(xt, hzr));
      const [z, r] = tf.split(zr, 2, 1) as [tf.Tensor, tf.Tensor];
      const n = tf.tanh(tf.add(xn[t] as tf.Tensor, tf.mul(r, hn)));
      h = tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), n));
      states.push(h);
      zrs.push(zr);
      ns.push(n);
      hns.push(hn);
    });
    const stack = (list: tf.Tensor[]): tf.Tensor3D => tf.stack(list, 1) as tf.Tensor3D;
    return { states: stack(states), zr: stack(zrs), n: stack(ns), hn: stack(hns) };
  });
}

/** The gradients {@link gruSequenceBackwardOps} returns, for `xw`, the recurrent kernel and its bias. */
export interface GruSequenceGrads {
  readonly dxw: tf.Tensor3D;
  readonly dRecurrent: tf.Tensor2D;
  readonly dRecurrentBias: tf.Tensor1D;
}

/**
 * Backpropagation through time for {@link gruSequenceForwardOps}, written out: per step (last to
 * first) `dh → dz, dn → d(pre-activations)` and `dh_{t−1} = dh ⊙ z + d(h·R + rh)·Rᵀ`; the recurrent
 * kernel's gradient is one matmul over all steps at the end (`[units, batch·steps] × [batch·steps,
 * 3·units]`). `dy` is the gradient of every state (`[batch, steps, units]`) or of the last (`[batch,
 * units]`). Called from the sequence's gradient function; returns new tensors only.
 */
export function gruSequenceBackwardOps(
  dy: tf.Tensor,
  recurrent: tf.Tensor2D,
  cache: GruSequenceCache,
  kind: GruGate,
): GruSequenceGrads {
  return tf.tidy(() => {
    const [batch, steps, u] = cache.states.shape;
    const dys = dy.rank === 3 ? tf.unstack(dy, 1) : undefined;
    const states = tf.unstack(cache.states, 1);
    const zrs = tf.unstack(cache.zr, 1);
    const ns = tf.unstack(cache.n, 1);
    const hns = tf.unstack(cache.hn, 1);
    const zero = tf.zeros([batch, u]);
    const dxws: tf.Tensor[] = new Array<tf.Tensor>(steps);
    const dhrs: tf.Tensor[] = new Array<tf.Tensor>(steps);
    let dh: tf.Tensor = dys ? zero : dy;
    for (let t = steps - 1; t >= 0; t--) {
      if (dys) dh = tf.add(dh, dys[t] as tf.Tensor);
      const zr = zrs[t] as tf.Tensor;
      const [z, r] = tf.split(zr, 2, 1) as [tf.Tensor, tf.Tensor];
      const n = ns[t] as tf.Tensor;
      const hn = hns[t] as tf.Tensor;
      const previous = t > 0 ? (states[t - 1] as tf.Tensor) : zero;
      const dn = tf.mul(dh, tf.sub(1, z));
      const dan = tf.mul(dn, tf.sub(1, tf.square(n)));
      const dzr = tf.concat([tf.mul(dh, tf.sub(previous, n)), tf.mul(dan, hn)], 1);
      const dzrPre = tf.mul(dzr, gateDerivative(kind, zr));
      dxws[t] = tf.concat([dzrPre, dan], 1);
      const dhr = tf.concat([dzrPre, tf.mul(dan, r)], 1);
      dhrs[t] = dhr;
      dh = tf.add(tf.mul(dh, z), tf.matMul(dhr, recurrent, false, true));
    }
    const dhrAll = tf.reshape(tf.stack(dhrs, 1), [batch * steps, 3 * u]);
    const previousAll = tf.reshape(
      tf.concat([tf.zeros([batch, 1, u]), tf.slice(cache.states, [0, 0, 0], [batch, steps - 1, u])], 1),
      [batch * steps, u],
    );
    return {
      dxw: tf.stack(dxws, 1) as tf.Tensor3D,
      dRecurrent: tf.matMul<tf.Tensor2D>(previousAll, dhrAll, true, false),
      dRecurrentBias: tf.sum<tf.Tensor1D>(dhrAll, 0),
    };
  });
}
