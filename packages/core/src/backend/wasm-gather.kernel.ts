import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { asWasmBackend, readValues } from './wasm-kernel-scope.js';

/*
 * tfjs-backend-wasm 4.22's GatherV2 computes a strided source index for every output element: an
 * embedding lookup of 128 × 32 token ids into a [1000, 64] table took 64 ms on this machine (one core),
 * longer than the GRU after it. Every index of a gather selects `inner` consecutive values (the slice
 * behind the gathered axis), so the lookup is one block copy per (outer, index) pair on the wasm heap.
 */

/** Shapes of a gather along `axis` with `batchDims` 0: `outer` blocks of `dim` slices of `inner` values. */
interface GatherPlan {
  readonly outer: number;
  readonly dim: number;
  readonly inner: number;
  readonly outShape: number[];
}

function planOf(x: TensorInfo, indices: TensorInfo, axis: number): GatherPlan {
  const size = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);
  return {
    outer: size(x.shape.slice(0, axis)),
    dim: x.shape[axis] ?? 1,
    inner: size(x.shape.slice(axis + 1)),
    outShape: [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)],
  };
}

/**
 * GatherV2 for `batchDims` 0 on numeric tensors: checks every index as the stock kernel does (the same
 * error), then copies the selected slices. The values are copies, so the result is the stock kernel's to
 * the bit. Anything else (batch dims, empty tensors, strings) goes to `stock`.
 */
function gatherKernel(stock: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs['x'];
    const indices = args.inputs['indices'];
    const batchDims = Number(args.attrs?.['batchDims'] ?? 0);
    if (!x || !indices || batchDims !== 0 || x.dtype === 'string' || x.dtype === 'complex64') return stock(args);
    if (tf.util.sizeFromShape(x.shape) === 0 || tf.util.sizeFromShape(indices.shape) === 0) return stock(args);
    const axis = tf.util.parseAxisParam(args.attrs?.['axis'] as number, x.shape)[0] ?? 0;
    const backend = asWasmBackend(args.backend);
    const ids = readValues(backend, indices);
    const plan = planOf(x, indices, axis);
    for (const index of ids) {
      if (!(index >= 0 && index <= plan.dim - 1))
        throw new Error(`GatherV2: the index value ${index} is not in [0, ${plan.dim - 1}]`);
    }
    const out = backend.makeOutput(plan.outShape, x.dtype);
    // Views taken after the last allocation: makeOutput may grow the heap and detach older views.
    const src = backend.typedArrayFromHeap(x);
    const dst = backend.typedArrayFromHeap(out);
    const { outer, dim, inner } = plan;
    const n = ids.length;
    for (let o = 0; o < outer; o++) {
      const from = o * dim * inner;
      const to = o * n * inner;
      for (let i = 0; i < n; i++) {
        const start = from + (ids[i] ?? 0) * inner;
        const at = to + i * inner;
        // Short slices (a label, a scalar per row) by hand: a subarray per slice costs more than the copy.
        if (inner < 32) for (let k = 0; k < inner; k++) dst[at + k] = src[start + k] ?? 0;
        else dst.set(src.subarray(start, start + inner), at);
      }
    }
    return out;
  };
}

/**
 * Kernel config replacing wasm's `GatherV2` (given as `original`, which it falls back to) with the block
 * copy above. Registered by `registerWasmGradients()`; reached through tf.gather (embedding layers, label
 * lookups, replay rows).
 */
export function wasmGatherKernels(original: KernelConfig | undefined): KernelConfig[] {
  if (original === undefined) return [];
  return [{ ...original, kernelFunc: gatherKernel(original.kernelFunc) }];
}
