import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import { runInWasmScope, type WasmKernelScope } from './wasm-kernel-scope.js';

/*
 * Einsum is missing from tfjs-backend-wasm 4.22. This follows the cpu backend's
 * strategy (tfjs-core's backend_util einsum helpers decide the contraction path):
 * transpose + reshape each operand to a common axis order, multiply with
 * broadcasting, and sum out contracted axes as soon as they are no longer needed.
 * Forward only: tfjs registers no Einsum gradient on any backend.
 */

function operands(inputs: NamedTensorInfoMap): TensorInfo[] {
  const list: TensorInfo[] = [];
  for (let i = 0; ; i++) {
    const t = inputs[String(i)];
    if (t === undefined) return list;
    list.push(t);
  }
}

/** Same check as backend_util.checkEinsumDimSizes, on TensorInfos instead of Tensors. */
function checkDimSizes(idDims: number[][], tensors: TensorInfo[]): void {
  const sizes = new Map<number, number>();
  idDims.forEach((ids, t) =>
    ids.forEach((id, axis) => {
      const size = tensors[t]?.shape[axis];
      const seen = sizes.get(id);
      if (size === undefined) throw new Error(`Einsum: operand ${t} has too few dimensions`);
      if (seen !== undefined && seen !== size) throw new Error(`Einsum: dimension ${id} has sizes ${seen} and ${size}`);
      sizes.set(id, size);
    }),
  );
}

function einsum(scope: WasmKernelScope, equation: string, tensors: TensorInfo[]): TensorInfo {
  const bu = tf.backend_util;
  const { allDims, summedDims, idDims } = bu.decodeEinsumEquation(equation, tensors.length);
  checkDimSizes(idDims, tensors);
  const { path, steps } = bu.getEinsumComputePath(summedDims, idDims);
  let out: TensorInfo | null = null;
  let remaining = allDims.length;
  steps.forEach((step, i) => {
    for (const term of step) {
      const operand = tensors[term];
      const ids = idDims[term];
      if (operand === undefined || ids === undefined) throw new Error(`Einsum: bad operand index ${term}`);
      const { permutationIndices: perm, expandDims } = bu.getEinsumPermutation(remaining, ids);
      let x = bu.isIdentityPermutation(perm) ? operand : scope.transpose(operand, perm);
      const target = x.shape.slice();
      for (const d of expandDims) target.splice(d, 0, 1);
      if (!tf.util.arraysEqual(x.shape, target)) x = scope.reshape(x, target);
      out = out === null ? x : scope.run('Multiply', { a: x, b: out });
    }
    if (i < steps.length - 1) {
      const axis = path[i] ?? -1;
      if (axis >= 0 && out !== null) out = scope.sum(out, [axis - (allDims.length - remaining)]);
      remaining--;
    }
  });
  if (out === null) throw new Error('Einsum: no operands');
  const result: TensorInfo = out;
  return tensors.includes(result) ? scope.run('Identity', { x: result }) : result;
}

/**
 * Kernel config adding `Einsum` to the wasm backend. Registered by
 * `registerWasmGradients()`; reached through tf.einsum.
 */
export function wasmEinsumKernels(): KernelConfig[] {
  return [
    {
      kernelName: tf.Einsum,
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend, attrs }) => {
        const equation = attrs?.['equation'];
        if (typeof equation !== 'string') throw new Error('Einsum: equation attribute missing');
        return runInWasmScope(backend, (scope) => einsum(scope, equation, operands(inputs)));
      },
    },
  ];
}
