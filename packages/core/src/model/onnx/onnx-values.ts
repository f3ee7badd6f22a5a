import * as tf from '@tensorflow/tfjs';
import { tensorValues, type AttributeProto, type ConstTensor, type NodeProto } from './onnx-proto.js';

/** The batch size inside a folded shape (the output of `Shape` on a model tensor). */
export const BATCH = Number.NaN;

/**
 * A value of the ONNX graph during import: a constant (initializers, `Constant`, folded shape
 * arithmetic) or a tensor of the tfjs model being built. A rank-4 model tensor is NCHW in ONNX and
 * held NHWC in tfjs (`nchw: true`).
 */
export type Value = { readonly kind: 'const'; readonly c: ConstTensor } | SymValue;

/** A tensor of the tfjs model being built, with the ONNX layout it stands for. */
export interface SymValue {
  readonly kind: 'sym';
  readonly t: tf.SymbolicTensor;
  readonly nchw: boolean;
  /**
   * How a recurrent tensor's ONNX axes differ from the batch-first tfjs tensor holding it:
   * `time-major` — ONNX `[steps, batch, features]`, tfjs `[batch, steps, features]` (torch's
   * `batch_first=True` Transpose before a GRU/LSTM); `directions` — ONNX `[1, batch, hidden]` (Y_h),
   * tfjs `[batch, hidden]`; `steps-directions` — ONNX `[steps, 1, batch, hidden]` (Y), tfjs
   * `[batch, steps, hidden]`. Only Transpose, Squeeze, Gather and the recurrent operators read such values.
   */
  readonly layout?: RecurrentLayout;
  /** Final states of stacked recurrent layers (ONNX `[layers, batch, hidden]`, torch's `num_layers`), in order. */
  readonly stack?: readonly SymValue[];
}

/** See {@link SymValue.layout}. */
export type RecurrentLayout = 'time-major' | 'directions' | 'steps-directions';

/** A model tensor's shape as ONNX sees it (NCHW for images), with {@link BATCH} for the batch. */
export function onnxShape(v: SymValue): number[] {
  const s = v.t.shape.map((d) => (d === null ? BATCH : d));
  if (v.layout === 'time-major') return [s[1] ?? 0, s[0] ?? 0, ...s.slice(2)];
  if (v.layout === 'directions') return [1, ...s];
  if (v.layout === 'steps-directions') return [s[1] ?? 0, 1, s[0] ?? 0, ...s.slice(2)];
  if (!v.nchw) return s;
  const [n, h, w, c] = s as [number, number, number, number];
  return [n, c, h, w];
}

/** Wraps a symbolic tensor; rank-4 tensors are NHWC-held NCHW unless `nchw` says otherwise. */
export function sym(t: tf.SymbolicTensor, nchw = t.shape.length === 4): SymValue {
  return { kind: 'sym', t, nchw };
}

/** Node-level failure the importer reports with the node's name and op type. */
export class OnnxNodeError extends Error {}

/** Reads a node's attributes with their ONNX defaults. */
export class Attributes {
  private readonly byName: Map<string, AttributeProto>;

  constructor(node: NodeProto) {
    this.byName = new Map((node.attribute ?? []).map((a) => [a.name, a]));
  }

  int(name: string, fallback: number): number {
    const a = this.byName.get(name);
    return a?.i !== undefined ? Number(a.i) : fallback;
  }

  float(name: string, fallback: number): number {
    return this.byName.get(name)?.f ?? fallback;
  }

  ints(name: string, fallback: number[]): number[] {
    const a = this.byName.get(name);
    return a?.ints !== undefined ? a.ints.map(Number) : fallback;
  }

  string(name: string, fallback: string): string {
    const s = this.byName.get(name)?.s;
    return s !== undefined ? new TextDecoder().decode(s) : fallback;
  }

  strings(name: string): string[] {
    return (this.byName.get(name)?.strings ?? []).map((b) => new TextDecoder().decode(b));
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** A `Constant` node's value, whichever of its value attributes it uses. */
  constantValue(what: string): ConstTensor {
    const t = this.byName.get('value')?.t;
    if (t) return tensorValues(t, what);
    const f = this.byName.get('value_float')?.f;
    if (f !== undefined) return { dims: [], data: Float32Array.of(f) };
    const fs = this.byName.get('value_floats')?.floats;
    if (fs !== undefined) return { dims: [fs.length], data: Float32Array.from(fs) };
    const i = this.byName.get('value_int')?.i;
    if (i !== undefined) return { dims: [], data: [Number(i)] };
    const is = this.byName.get('value_ints')?.ints;
    if (is !== undefined) return { dims: [is.length], data: is.map(Number) };
    throw new OnnxNodeError('has no value Engram reads (value, value_float(s), value_int(s))');
  }
}

/** Number of elements of a shape. */
export function size(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/**
 * Transposes row-major `data` of shape `dims` by `perm` (numpy's `transpose`). Output axes whose
 * elements are consecutive in the input are merged first (a conv kernel's `kh, kw` pair; size-1 axes
 * dropped); then the input's contiguous axis and the output's are walked in 32 × 32 tiles, so reads and
 * writes both stay in cache (an 11M-weight model's kernels in tens of milliseconds, not a per-element
 * index computation over every axis).
 */
export function transposeData(data: Float32Array, dims: readonly number[], perm: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  if (data.length === 0) return out;
  const inStride = new Array<number>(dims.length);
  for (let i = dims.length - 1, s = 1; i >= 0; i--) {
    inStride[i] = s;
    s *= dims[i] ?? 1;
  }
  // Output axes (outer to inner): extent and input stride, merged where consecutive in the input.
  const extent: number[] = [];
  const stride: number[] = [];
  for (const p of perm) {
    const n = dims[p] ?? 1;
    if (n === 1) continue;
    const s = inStride[p] ?? 1;
    const last = extent.length - 1;
    if (last >= 0 && stride[last] === s * n) {
      extent[last] = (extent[last] ?? 1) * n;
      stride[last] = s;
    } else {
      extent.push(n);
      stride.push(s);
    }
  }
  const rank = extent.length;
  const lastAxis = rank - 1;
  // The output axis that is contiguous in the input (stride 1); the last one is contiguous in the output.
  const c = stride.indexOf(1);
  if (rank <= 1) {
    out.set(data);
    return out;
  }
  // When that is also the output's last axis, whole rows are copied; otherwise tiles are transposed.
  const rows = c === lastAxis;
  const outStride = new Array<number>(rank);
  for (let k = lastAxis, s = 1; k >= 0; k--) {
    outStride[k] = s;
    s *= extent[k] ?? 1;
  }
  const outer = Array.from({ length: lastAxis }, (_, k) => k).filter((k) => rows || k !== c);
  const nC = extent[c] ?? 1;
  const oC = outStride[c] ?? 1;
  const nL = extent[lastAxis] ?? 1;
  const sL = stride[lastAxis] ?? 1;
  const idx = new Int32Array(outer.length);
  let inBase = 0;
  let outBase = 0;
  for (;;) {
    if (rows) for (let j = 0; j < nL; j++) out[outBase + j] = data[inBase + j] as number;
    else
      for (let c0 = 0; c0 < nC; c0 += TILE) {
        const c1 = Math.min(c0 + TILE, nC);
        for (let l0 = 0; l0 < nL; l0 += TILE) {
          const l1 = Math.min(l0 + TILE, nL);
          for (let ci = c0; ci < c1; ci++) {
            let src = inBase + ci + l0 * sL;
            let dst = outBase + ci * oC + l0;
            for (let li = l0; li < l1; li++, src += sL) out[dst++] = data[src] as number;
          }
        }
      }
    // next position of the other axes (an odometer); done when it wraps
    let k = outer.length - 1;
    for (; k >= 0; k--) {
      const axis = outer[k] as number;
      const e = extent[axis] ?? 1;
      const next = (idx[k] as number) + 1;
      if (next < e) {
        idx[k] = next;
        inBase += stride[axis] ?? 0;
        outBase += outStride[axis] ?? 0;
        break;
      }
      idx[k] = 0;
      inBase -= (stride[axis] ?? 0) * (e - 1);
      outBase -= (outStride[axis] ?? 0) * (e - 1);
    }
    if (k < 0) return out;
  }
}

/** Side of the square tiles {@link transposeData} copies (32 × 32 floats: 4 KB read, 4 KB written). */
const TILE = 32;

/** Float32 values of a constant (integers converted). */
export function floats(c: ConstTensor): Float32Array {
  return c.data instanceof Float32Array ? c.data : Float32Array.from(c.data);
}

/** Integer values of a constant (as in shapes, axes, indices). */
export function ints(c: ConstTensor): number[] {
  return Array.from(c.data, (v) => (Number.isNaN(v) ? v : Math.trunc(v)));
}
