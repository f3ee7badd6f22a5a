import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { asWasmBackend, heapFloat32 } from './wasm-kernel-scope.js';
import { pair, padAttr, requireInput, roundingAttr, shape4 } from './wasm-conv-attrs.js';

/*
 * tfjs-backend-wasm 4.22's MaxPoolGrad gives wrong gradients whenever the input is not
 * a single square channel (e.g. [2,9,10,3] with a 2x2/2 pool: max abs error ~1 against
 * the cpu backend). This replacement routes dy to the first maximum of each window,
 * exactly like the cpu backend (strict '>' scan, padding excluded), in a JS loop over
 * the wasm heap: O(N*Ho*Wo*C*k*k), a few ms for a typical CNN batch.
 */

function maxPoolGrad(dy: TensorInfo, input: TensorInfo, attrs: NamedAttrMap, rawBackend: object): TensorInfo {
  const backend = asWasmBackend(rawBackend);
  const info = tf.backend_util.computePool2DInfo(
    shape4(input.shape, 'MaxPoolGrad input'),
    pair(attrs['filterSize'], 1),
    pair(attrs['strides'], 1),
    1,
    padAttr(attrs['pad']),
    roundingAttr(attrs['dimRoundingMode']),
  );
  const { batchSize, inHeight: H, inWidth: W, inChannels: C, outHeight: Ho, outWidth: Wo } = info;
  const { strideHeight: sh, strideWidth: sw, effectiveFilterHeight: kh, effectiveFilterWidth: kw } = info;
  const { top, left } = info.padInfo;
  const out = backend.makeOutput(input.shape, 'float32');
  // Views straight into the wasm heap: no allocation happens below, so they stay valid.
  const x = heapFloat32(backend, input);
  const g = heapFloat32(backend, dy);
  const dx = heapFloat32(backend, out).fill(0);
  const best = new Float32Array(C);
  const at = new Int32Array(C);
  for (let b = 0; b < batchSize; b++) {
    for (let i = 0; i < Ho; i++) {
      const r0 = Math.max(0, i * sh - top),
        r1 = Math.min(H, i * sh - top + kh);
      for (let j = 0; j < Wo; j++) {
        const c0 = Math.max(0, j * sw - left),
          c1 = Math.min(W, j * sw - left + kw);
        best.fill(Number.NEGATIVE_INFINITY);
        at.fill(-1);
        // Scan the window pixel by pixel, all channels at once (contiguous in NHWC).
        for (let r = r0; r < r1; r++) {
          for (let c = c0; c < c1; c++) {
            const base = ((b * H + r) * W + c) * C;
            for (let d = 0; d < C; d++) {
              const v = x[base + d] as number;
              if (v > (best[d] as number)) {
                best[d] = v;
                at[d] = base + d;
              }
            }
          }
        }
        const gBase = ((b * Ho + i) * Wo + j) * C;
        for (let d = 0; d < C; d++) {
          const idx = at[d] as number;
          if (idx >= 0) dx[idx] = (dx[idx] as number) + (g[gBase + d] as number);
        }
      }
    }
  }
  return out;
}

/**
 * Kernel config replacing wasm's `MaxPoolGrad` with a correct implementation.
 * Registered by `registerWasmGradients()`; used by tf.maxPool's gradient.
 */
export function wasmPoolKernels(): KernelConfig[] {
  return [
    {
      kernelName: tf.MaxPoolGrad,
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend, attrs }) =>
        maxPoolGrad(
          requireInput(inputs, 'dy', tf.MaxPoolGrad),
          requireInput(inputs, 'input', tf.MaxPoolGrad),
          attrs ?? {},
          backend,
        ),
    },
  ];
}
