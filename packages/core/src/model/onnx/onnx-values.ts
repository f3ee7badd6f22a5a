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

/** Transposes row-major `data` of shape `dims` by `perm` (numpy's `transpose`). */
export function transposeData(data: Float32Array, dims: readonly number[], perm: readonly number[]): Float32Array {
  const outDims = perm.map((p) => dims[p] ?? 1);
  const strides = dims.map((_, i) => size(dims.slice(i + 1)));
  const out = new Float32Array(data.length);
  const idx = new Array<number>(dims.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let k = 0; k < perm.length; k++) src += (idx[k] ?? 0) * (strides[perm[k] ?? 0] ?? 0);
    out[o] = data[src] ?? 0;
    for (let k = idx.length - 1; k >= 0; k--) {
      idx[k] = (idx[k] ?? 0) + 1;
      if ((idx[k] ?? 0) < (outDims[k] ?? 1)) break;
      idx[k] = 0;
    }
  }
  return out;
}

/** Float32 values of a constant (integers converted). */
export function floats(c: ConstTensor): Float32Array {
  return c.data instanceof Float32Array ? c.data : Float32Array.from(c.data);
}

/** Integer values of a constant (as in shapes, axes, indices). */
export function ints(c: ConstTensor): number[] {
  return Array.from(c.data, (v) => (Number.isNaN(v) ? v : Math.trunc(v)));
}
