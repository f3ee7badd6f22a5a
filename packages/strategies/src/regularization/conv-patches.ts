import * as tf from '@tensorflow/tfjs';
import { writesAreCopied } from '@engram/core';
import type { ConvGeometry } from './batched-plan.js';

// A convolution's input patches on the host, and its per-sample kernel gradients summed from them:
// the Conv2D part of the batched per-sample pass (batched-per-sample.ts).

/** The host array patches are gathered in, refilled call after call where the backend copies it on creation. */
let scratch = new Float32Array(0);

/**
 * The patches a convolution multiplies with its kernel, `[n, outH·outW, kh·kw·cin]`, in the kernel's
 * `[kh, kw, cin]` order (zeros where the window covers padding; TensorFlow's `same` puts the extra
 * row or column at the end). Gathered on the host in one pass into a reused array when the backend
 * copies it ({@link writesAreCopied}): a strided slice per kernel offset and a concatenation, or a
 * `gather`, cost several times more on the wasm backend, and so do fresh pages for a new array.
 */
export function convPatches(input: tf.Tensor4D, g: ConvGeometry): tf.Tensor3D {
  return patchesOf(input.dataSync() as Float32Array, input.shape, 0, input.shape[0], g);
}

/** {@link convPatches} of samples `[from, from + count)` of a host copy `src` of a `[n, h, w, c]` input. */
function patchesOf(
  src: Float32Array,
  shape: readonly [number, number, number, number],
  from: number,
  count: number,
  g: ConvGeometry,
): tf.Tensor3D {
  const [, h, w, c] = shape;
  const [kh, kw] = g.kernel;
  const [sh, sw] = g.strides;
  let outH = Math.floor((h - kh) / sh) + 1;
  let outW = Math.floor((w - kw) / sw) + 1;
  let top = 0;
  let left = 0;
  if (g.padding === 'same') {
    outH = Math.ceil(h / sh);
    outW = Math.ceil(w / sw);
    top = Math.floor(Math.max((outH - 1) * sh + kh - h, 0) / 2);
    left = Math.floor(Math.max((outW - 1) * sw + kw - w, 0) / 2);
  }
  const k = kh * kw * c;
  const size = count * outH * outW * k;
  const reuse = writesAreCopied();
  if (reuse && scratch.length < size) scratch = new Float32Array(size);
  const out = reuse ? scratch.subarray(0, size) : new Float32Array(size);
  let o = 0;
  for (let b = from; b < from + count; b++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        for (let i = 0; i < kh; i++) {
          const iy = oy * sh + i - top;
          for (let j = 0; j < kw; j++, o += c) {
            const ix = ox * sw + j - left;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
              if (reuse) out.fill(0, o, o + c);
              continue;
            }
            const at = ((b * h + iy) * w + ix) * c;
            for (let q = 0; q < c; q++) out[o + q] = src[at + q] as number;
          }
        }
      }
    }
  }
  return tf.tensor3d(out, [count, outH * outW, k]);
}

/**
 * Floats the per-sample pieces of one convolution (its patches, its per-sample kernel gradients) may hold at once
 * (measured best of 2–16 M).
 */
const PIECE_FLOATS = 8 * 1024 * 1024;

/**
 * `Σₙ op(patchesₙᵀ δₙ)` for one convolution's kernel, in pieces of samples sized so that neither the
 * patches nor the per-sample gradients exceed {@link PIECE_FLOATS}: large intermediates make the
 * backend grow and touch fresh memory, which costs more than the arithmetic.
 */
export function convKernelSum(
  a: tf.Tensor4D,
  d: tf.Tensor4D,
  g: ConvGeometry,
  shape: number[],
  op: (t: tf.Tensor) => tf.Tensor,
): tf.Tensor {
  const m = a.shape[0];
  const positions = d.shape[1] * d.shape[2];
  const cout = d.shape[3];
  const k = g.kernel[0] * g.kernel[1] * a.shape[3];
  const piece = Math.max(1, Math.floor(PIECE_FLOATS / Math.max(positions * k, k * cout)));
  // Pieces are cut on the host: one read of each tensor (the wasm backend's slice reads the whole input every time).
  const input = a.dataSync() as Float32Array;
  const delta = d.dataSync() as Float32Array;
  let sum: tf.Tensor = tf.zeros([k, cout]);
  for (let s0 = 0; s0 < m; s0 += piece) {
    const size = Math.min(piece, m - s0);
    const next = tf.tidy(() => {
      const patches = patchesOf(input, a.shape, s0, size, g);
      const deltas = tf.tensor3d(delta.subarray(s0 * positions * cout, (s0 + size) * positions * cout), [
        size,
        positions,
        cout,
      ]);
      return tf.add(sum, tf.sum(op(tf.matMul(patches, deltas, true, false)), 0));
    });
    sum.dispose();
    sum = next;
  }
  return tf.reshape(sum, shape);
}
