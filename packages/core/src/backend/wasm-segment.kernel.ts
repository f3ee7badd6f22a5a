import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { asWasmBackend, readValues } from './wasm-kernel-scope.js';
import { requireInput } from './wasm-conv-attrs.js';

/*
 * UnsortedSegmentSum is missing from tfjs-backend-wasm 4.22; tfjs uses it for the
 * gradient of tf.gather (embedding layers, label lookups). A one-hot matMul would need
 * a [numSegments, N] matrix (hundreds of MB for a vocabulary); a JS scatter-add over
 * the wasm heap is O(size(x)) and needs no scratch beyond the output.
 */

function unsortedSegmentSum(x: TensorInfo, ids: TensorInfo, numSegments: number, rawBackend: object): TensorInfo {
  const backend = asWasmBackend(rawBackend);
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`UnsortedSegmentSum on wasm: unsupported dtype ${x.dtype}`);
  }
  const idShape = ids.shape;
  if (!idShape.every((d, i) => d === x.shape[i])) {
    throw new Error(
      `UnsortedSegmentSum: segmentIds shape [${idShape.join(', ')}] must prefix x shape [${x.shape.join(', ')}]`,
    );
  }
  const inner = x.shape.slice(idShape.length).reduce((a, b) => a * b, 1);
  const xv = readValues(backend, x);
  const iv = readValues(backend, ids);
  const acc = x.dtype === 'float32' ? new Float32Array(numSegments * inner) : new Int32Array(numSegments * inner);
  for (let r = 0; r < iv.length; r++) {
    const seg = iv[r] ?? -1;
    if (seg < 0 || seg >= numSegments) continue; // dropped, as in TensorFlow
    const src = r * inner,
      dst = seg * inner;
    for (let k = 0; k < inner; k++) acc[dst + k] = (acc[dst + k] ?? 0) + (xv[src + k] ?? 0);
  }
  const out = backend.makeOutput([numSegments, ...x.shape.slice(idShape.length)], x.dtype);
  backend.typedArrayFromHeap(out).set(acc);
  return out;
}

/**
 * Kernel config adding `UnsortedSegmentSum` to the wasm backend. Registered by
 * `registerWasmGradients()`; reached through tf.gather's gradient and
 * tf.unsortedSegmentSum.
 */
export function wasmSegmentKernels(): KernelConfig[] {
  return [
    {
      kernelName: tf.UnsortedSegmentSum,
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend, attrs }) => {
        const n = attrs?.['numSegments'];
        if (typeof n !== 'number') throw new Error('UnsortedSegmentSum: numSegments attribute missing');
        return unsortedSegmentSum(
          requireInput(inputs, 'x', tf.UnsortedSegmentSum),
          requireInput(inputs, 'segmentIds', tf.UnsortedSegmentSum),
          n,
          backend,
        );
      },
    },
  ];
}
