import * as tf from '@tensorflow/tfjs';
import { channelsFirst, channelsLast, permute, type Converter } from './onnx-context.js';
import { BinaryOp, ConstantOp, type ElementwiseOp } from './onnx-layers.js';
import { concatRecurrent, gatherRecurrent, squeezeRecurrent, transposeRecurrent } from './onnx-ops-recurrent.js';
import type { ConstTensor } from './onnx-proto.js';
import {
  floats,
  ints,
  OnnxNodeError,
  onnxShape,
  size,
  sym,
  transposeData,
  type SymValue,
  type Value,
} from './onnx-values.js';

const constant = (c: ConstTensor): Value => ({ kind: 'const', c });
const axisOf = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

/** Flatten (axis 1): NCHW tensors are permuted back to ONNX's element order first. */
const flatten: Converter = (node, ctx, a) => {
  const x = ctx.sym(node, 0);
  if (axisOf(a.int('axis', 1), x.t.shape.length) !== 1)
    throw new OnnxNodeError('only axis=1 (keep the batch) is supported');
  if (x.t.shape.length === 2) return [x];
  return [sym(ctx.layer(tf.layers.flatten({ name: ctx.name(node) }), channelsFirst(ctx, x, node)), false)];
};

/** Reshape to a (folded) constant shape that keeps the batch axis. */
const reshape: Converter = (node, ctx) => {
  const x = ctx.sym(node, 0);
  const shape = ctx.constant(node, 1);
  if (!shape)
    throw new OnnxNodeError('the target shape must be constant (or the Shape/Gather/Concat chain of a flatten)');
  const target = ints(shape);
  const first = target[0];
  if (!(first === undefined || Number.isNaN(first) || first === -1 || first === 0))
    throw new OnnxNodeError(`reshape to [${target.join(', ')}] changes the batch axis`);
  const inShape = onnxShape(x);
  const rest = target.slice(1).map((d, i) => {
    if (Number.isNaN(d)) throw new OnnxNodeError('the batch size may only be the first dimension');
    return d === 0 ? (inShape[i + 1] ?? 0) : d;
  });
  const known = size(rest.filter((d) => d !== -1));
  const total = size(inShape.slice(1));
  const inferred = rest.map((d) => (d === -1 ? total / known : d));
  if (rest.filter((d) => d === -1).length > 1 || size(inferred) !== total || !inferred.every(Number.isInteger))
    throw new OnnxNodeError(`cannot reshape [${inShape.slice(1).join(', ')}] to [${rest.join(', ')}] per sample`);
  const flat = channelsFirst(ctx, x, node);
  const out = sym(ctx.layer(tf.layers.reshape({ targetShape: inferred, name: ctx.name(node) }), flat), false);
  return [channelsLast(ctx, out, node)];
};

/** Transpose that keeps the batch axis first. */
const transpose: Converter = (node, ctx, a) => {
  const x = ctx.sym(node, 0);
  const rank = x.t.shape.length;
  const perm = a.ints(
    'perm',
    Array.from({ length: rank }, (_, i) => rank - 1 - i),
  );
  const recurrent = transposeRecurrent(x, perm);
  if (recurrent) return [recurrent];
  if (x.layout) throw new OnnxNodeError(`perm [${perm.join(', ')}] of a recurrent tensor is not supported`);
  if (perm[0] !== 0) throw new OnnxNodeError(`perm [${perm.join(', ')}] moves the batch axis`);
  if (perm.every((p, i) => p === i)) return [x];
  // NCHW ↔ NHWC of an image (the pairs Engram's exporter writes around each convolution): the tfjs
  // tensor already holds the result's element order, so only the layout tag changes, no layer.
  const is = (q: number[]): boolean => rank === 4 && perm.every((p, i) => p === q[i]);
  if (x.nchw && is([0, 2, 3, 1])) return [{ ...x, nchw: false }];
  if (!x.nchw && is([0, 3, 1, 2])) return [{ ...x, nchw: true }];
  const out = permute(ctx, channelsFirst(ctx, x, node), perm.slice(1), node);
  return [channelsLast(ctx, out, node)];
};

/** Concat of model tensors (along a non-batch axis), or of constants (the shape chain of a flatten). */
const concat: Converter = (node, ctx, a) => {
  const values = (node.input ?? []).map((_, i) => ctx.input(node, i)).filter((v): v is Value => v !== undefined);
  const axis = a.int('axis', 0);
  if (values.some((v) => v.kind === 'sym' && v.layout)) return [concatRecurrent(values, axis)];
  if (values.every((v) => v.kind === 'const')) {
    const cs = values.map((v) => v.c);
    if (cs.some((c) => c.dims.length > 1)) throw new OnnxNodeError('constant concat of rank > 1 is not supported');
    const data = cs.flatMap((c) => Array.from(c.data));
    return [constant({ dims: [data.length], data })];
  }
  const syms = values.filter((v): v is SymValue => v.kind === 'sym');
  if (syms.length !== values.length) throw new OnnxNodeError('mixes constants and model tensors');
  const rank = syms[0]?.t.shape.length ?? 0;
  const ax = axisOf(axis, rank);
  if (ax === 0) throw new OnnxNodeError('concatenation along the batch axis is not supported');
  const nchw = syms.every((s) => s.nchw);
  if (!nchw && syms.some((s) => s.nchw)) throw new OnnxNodeError('mixes image and non-image tensors');
  const tfAxis = nchw ? ([0, 3, 1, 2][ax] ?? ax) : ax;
  return [sym(ctx.layer(tf.layers.concatenate({ axis: tfAxis, name: ctx.name(node) }), syms), nchw)];
};

/** A constant operand laid out for the channels-last tensor it broadcasts against (leading 1s dropped). */
function broadcastConstant(c: ConstTensor, x: SymValue): { shape: number[]; data: Float32Array } {
  const rank = x.t.shape.length;
  if (c.dims.length > rank) throw new OnnxNodeError('constant operand has more axes than the tensor');
  let dims = [...new Array<number>(rank - c.dims.length).fill(1), ...c.dims];
  let data = floats(c);
  if (dims[0] !== 1) throw new OnnxNodeError('constant operand varies along the batch axis');
  if (x.nchw) {
    data = transposeData(data, dims, [0, 2, 3, 1]);
    dims = [dims[0] ?? 1, dims[2] ?? 1, dims[3] ?? 1, dims[1] ?? 1];
  }
  while (dims.length > 1 && dims[0] === 1) dims = dims.slice(1);
  return { shape: dims, data: data.slice() };
}

/** Add / Sub / Mul / Div of model tensors, of a tensor and a constant, or of two constants (scalars). */
function arithmetic(op: 'add' | 'sub' | 'mul' | 'div'): Converter {
  return (node, ctx) => {
    const [a, b] = [ctx.input(node, 0), ctx.input(node, 1)];
    if (!a || !b) throw new OnnxNodeError('needs two inputs');
    if (a.kind === 'const' && b.kind === 'const') return [foldArithmetic(op, a.c, b.c)];
    if (a.kind === 'sym' && b.kind === 'sym') {
      if (a.nchw !== b.nchw) throw new OnnxNodeError('mixes image and non-image tensors');
      const name = ctx.name(node);
      const layer =
        op === 'add'
          ? tf.layers.add({ name })
          : op === 'mul'
            ? tf.layers.multiply({ name })
            : new BinaryOp({ op, name });
      return [sym(ctx.layer(layer, [a, b]), a.nchw)];
    }
    const x = (a.kind === 'sym' ? a : b) as SymValue;
    const c = (a.kind === 'const' ? a : b) as { c: ConstTensor };
    const reversed: ElementwiseOp = op === 'sub' ? 'rsub' : op === 'div' ? 'rdiv' : op;
    const { shape, data } = broadcastConstant(c.c, x);
    const layer = new ConstantOp({ op: a.kind === 'sym' ? op : reversed, constantShape: shape, name: ctx.name(node) });
    return [sym(ctx.layer(layer, x, [tf.tensor(data, shape)]), x.nchw)];
  };
}

function foldArithmetic(op: 'add' | 'sub' | 'mul' | 'div', a: ConstTensor, b: ConstTensor): Value {
  if (size(a.dims) !== 1 && size(b.dims) !== 1 && size(a.dims) !== size(b.dims))
    throw new OnnxNodeError('constant arithmetic with broadcasting is not supported');
  const big = size(a.dims) >= size(b.dims) ? a : b;
  const f = {
    add: (p: number, q: number) => p + q,
    sub: (p: number, q: number) => p - q,
    mul: (p: number, q: number) => p * q,
    div: (p: number, q: number) => p / q,
  }[op];
  const at = (c: ConstTensor, i: number): number => Number(c.data[size(c.dims) === 1 ? 0 : i]);
  const data = Array.from({ length: size(big.dims) }, (_, i) => f(at(a, i), at(b, i)));
  return constant({ dims: big.dims, data: a.data instanceof Float32Array ? Float32Array.from(data) : data });
}

/** Pad with zeros on the spatial axes (a pad of all zeros, as torch writes before avg_pool2d, is dropped). */
const pad: Converter = (node, ctx, a) => {
  const x = ctx.sym(node, 0);
  const pads = ctx.opset >= 11 ? ints(ctx.constant(node, 1) ?? { dims: [0], data: [] }) : a.ints('pads', []);
  const value = ctx.constant(node, 2);
  if (a.string('mode', 'constant') !== 'constant' || (value && floats(value)[0] !== 0))
    throw new OnnxNodeError('only zero padding (mode=constant, value 0) is supported');
  if (pads.every((p) => p === 0)) return [x];
  if (pads.length !== 8 || x.t.shape.length !== 4)
    throw new OnnxNodeError('only padding of the two spatial axes of an image is supported');
  // NCHW pads [n, c, t, l, n, c, b, r]; an NHWC tensor (Engram's export) pads [n, t, l, c, n, b, r, c].
  const [n0, c0, t, l, n1, c1, b, r] = x.nchw
    ? pads
    : [pads[0], pads[3], pads[1], pads[2], pads[4], pads[7], pads[5], pads[6]];
  if (n0 || c0 || n1 || c1) throw new OnnxNodeError('only padding of the two spatial axes of an image is supported');
  const layer = tf.layers.zeroPadding2d({
    padding: [
      [t ?? 0, b ?? 0],
      [l ?? 0, r ?? 0],
    ],
    name: ctx.name(node),
  });
  return [sym(ctx.layer(layer, x), x.nchw)];
};

/** Shape of a model tensor (ONNX layout), folded to a constant with {@link BATCH} for the batch. */
const shapeOp: Converter = (node, ctx, a) => {
  const s = onnxShape(ctx.sym(node, 0));
  const start = axisOf(a.int('start', 0), s.length);
  const end = a.has('end') ? axisOf(a.int('end', s.length), s.length) : s.length;
  const data = s.slice(start, end);
  return [constant({ dims: [data.length], data })];
};

/** Gather from a constant (the shape chain); gathering from model tensors (embeddings) is refused. */
const gather: Converter = (node, ctx, a) => {
  const idx0 = ctx.input(node, 1);
  const recurrent = gatherRecurrent(node, ctx, a.int('axis', 0), idx0?.kind === 'const' ? idx0.c : undefined);
  if (recurrent) return [recurrent];
  const data = ctx.input(node, 0);
  if (data?.kind !== 'const') throw new OnnxNodeError('gathering from a computed tensor is not supported');
  const idx = ctx.constant(node, 1);
  if (!idx) throw new OnnxNodeError('embedding lookups (indices from the model input) are not supported');
  if (data.c.dims.length !== 1 || a.int('axis', 0) !== 0)
    throw new OnnxNodeError('only gathering from a 1-D constant is supported');
  const n = data.c.dims[0] ?? 0;
  const picked = ints(idx).map((i) => Number(data.c.data[i < 0 ? i + n : i]));
  return [constant({ dims: idx.dims, data: picked })];
};

/** Unsqueeze / Squeeze of constants (the shape chain). */
function squeeze(kind: 'Unsqueeze' | 'Squeeze'): Converter {
  return (node, ctx, a) => {
    const v = ctx.input(node, 0);
    const axesInput = ctx.opset >= 13 ? ctx.constant(node, 1) : undefined;
    const axes = axesInput ? ints(axesInput) : a.ints('axes', []);
    const recurrent = v?.kind === 'sym' && kind === 'Squeeze' ? squeezeRecurrent(v, axes) : undefined;
    if (recurrent) return [recurrent];
    if (v?.kind !== 'const') throw new OnnxNodeError(`${kind} of a model tensor is not supported`);
    const rank = v.c.dims.length + (kind === 'Unsqueeze' ? axes.length : 0);
    const norm = axes.map((x) => axisOf(x, rank));
    const dims =
      kind === 'Unsqueeze'
        ? insertOnes(v.c.dims, norm)
        : v.c.dims.filter((d, i) => (norm.length ? !norm.includes(i) : d !== 1));
    return [constant({ dims, data: v.c.data })];
  };
}

function insertOnes(dims: number[], axes: number[]): number[] {
  const out = [...dims];
  for (const ax of [...axes].sort((p, q) => p - q)) out.splice(ax, 0, 1);
  return out;
}

const identity: Converter = (node, ctx) => {
  const v = ctx.input(node, 0);
  if (!v) throw new OnnxNodeError('has no input');
  return [v];
};

const constantOp: Converter = (node, _ctx, a) => [constant(a.constantValue(`constant ${node.name ?? ''}`))];

/** Cast: constants keep their values; a model tensor cast to float is unchanged. */
const cast: Converter = (node, ctx, a) => {
  const v = ctx.input(node, 0);
  // Token ids Engram's exporter casts to int64 before the embedding's Gather: the model's input stays float.
  const isInput = v?.kind === 'sym' && v.t.sourceLayer.getClassName() === 'InputLayer';
  if (v?.kind === 'sym' && a.int('to', 1) !== 1 && !isInput)
    throw new OnnxNodeError('casting a computed tensor to a non-float type is not supported');
  if (!v) throw new OnnxNodeError('has no input');
  return [v];
};

/** Converters of the structural operators: shapes, layout, arithmetic and constant folding. */
export const STRUCTURE_OPS: Record<string, Converter> = {
  Flatten: flatten,
  Reshape: reshape,
  Transpose: transpose,
  Concat: concat,
  Add: arithmetic('add'),
  Sub: arithmetic('sub'),
  Mul: arithmetic('mul'),
  Div: arithmetic('div'),
  Pad: pad,
  Identity: identity,
  Constant: constantOp,
  Shape: shapeOp,
  Gather: gather,
  Unsqueeze: squeeze('Unsqueeze'),
  Squeeze: squeeze('Squeeze'),
  Cast: cast,
};
