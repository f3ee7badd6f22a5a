import * as tf from '@tensorflow/tfjs';
import { GruResetAfter } from '../gru-reset-after.layer.js';
import type { Converter, ImportContext } from './onnx-context.js';
import { TimeStep } from './onnx-layers.js';
import type { ConstTensor, NodeProto } from './onnx-proto.js';
import {
  type Attributes,
  floats,
  ints,
  OnnxNodeError,
  sym,
  transposeData,
  type SymValue,
  type Value,
} from './onnx-values.js';

/**
 * GRU and LSTM as `torch.onnx.export` writes `nn.GRU`/`nn.LSTM` (one layer, forward, `batch_first=True`):
 * `Transpose(perm 1,0,2) → GRU/LSTM → Y_h → Gather/Squeeze(0) → Gemm`, or `Y → Squeeze(1) → Transpose →
 * Gather(step)`. The tensors between are held batch-first and tagged with their ONNX layout
 * (`SymValue.layout`) until a Squeeze/Gather/Transpose brings them back to batch-first.
 */

/** Refuses what Engram's recurrent layers do not compute: other directions, clipping, activations, layout 1. */
function checkAttributes(a: Attributes, defaults: string[]): number {
  const direction = a.string('direction', 'forward');
  if (direction !== 'forward')
    throw new OnnxNodeError(`direction=${direction} is not supported (only forward, one direction)`);
  if (a.has('clip')) throw new OnnxNodeError('clip is not supported (cell clipping)');
  if (a.int('layout', 0) !== 0) throw new OnnxNodeError('layout=1 (batch-major inputs) is not supported');
  if (a.has('activation_alpha') || a.has('activation_beta'))
    throw new OnnxNodeError('activation_alpha/activation_beta are not supported');
  if (a.has('activations')) {
    const given = a.strings('activations');
    if (given.length !== defaults.length || given.some((g, i) => g.toLowerCase() !== defaults[i]?.toLowerCase()))
      throw new OnnxNodeError(
        `activations [${given.join(', ')}] are not supported (only the defaults ${defaults.join(', ')})`,
      );
  }
  const hidden = a.int('hidden_size', 0);
  if (!(hidden > 0)) throw new OnnxNodeError('hidden_size must be set');
  return hidden;
}

/** The sequence input: the model tensor torch transposed to `[steps, batch, features]`. */
function sequence(node: NodeProto, ctx: ImportContext): SymValue {
  const x = ctx.sym(node, 0);
  if (x.layout !== 'time-major' || x.t.shape.length !== 3)
    throw new OnnxNodeError(
      "X must be the batch-first input transposed to [steps, batch, features] (torch's batch_first=True)",
    );
  if (ctx.input(node, 4)) throw new OnnxNodeError('sequence_lens is not supported (every sequence has every step)');
  return x;
}

/** Initial states must be absent or zeros (torch writes a ConstantOfShape of zeros). */
function zeroState(node: NodeProto, ctx: ImportContext, i: number, what: string): void {
  const c = ctx.input(node, i);
  if (c === undefined) return;
  if (c.kind !== 'const' || Array.from(c.c.data).some((v) => v !== 0))
    throw new OnnxNodeError(`${what} must be zeros (Engram's recurrent layers start from a zero state)`);
}

function weight(
  node: NodeProto,
  ctx: ImportContext,
  i: number,
  rows: number,
  cols: number,
  what: string,
): Float32Array {
  const c = ctx.constant(node, i);
  if (!c || c.dims.join() !== [1, rows, cols].join())
    throw new OnnxNodeError(`${what} must be a constant [1, ${rows}, ${cols}]`);
  return floats(c);
}

/** ONNX gate blocks `[gates·H, cols]` reordered by `order` and transposed to a tfjs kernel `[cols, gates·H]`. */
function kernel(data: Float32Array, hidden: number, cols: number, order: number[]): tf.Tensor2D {
  const rows = new Float32Array(data.length);
  order.forEach((from, to) =>
    rows.set(data.subarray(from * hidden * cols, (from + 1) * hidden * cols), to * hidden * cols),
  );
  return tf.tensor2d(transposeData(rows, [order.length * hidden, cols], [1, 0]), [cols, order.length * hidden]);
}

/** The bias `[1, 2·gates·H]` as input and recurrent halves, gate blocks reordered by `order`. */
function biases(b: ConstTensor | undefined, hidden: number, order: number[]): [Float32Array, Float32Array] {
  const n = order.length * hidden;
  if (b && b.dims.join() !== [1, 2 * n].join()) throw new OnnxNodeError(`B must be a constant [1, ${2 * n}]`);
  const data = b ? floats(b) : new Float32Array(2 * n);
  const half = (offset: number): Float32Array => {
    const out = new Float32Array(n);
    order.forEach((from, to) =>
      out.set(data.subarray(offset + from * hidden, offset + (from + 1) * hidden), to * hidden),
    );
    return out;
  };
  return [half(0), half(n)];
}

/** The node's outputs: Y (every step) and Y_h (the last), from a layer applied once. */
function outputs(node: NodeProto, ctx: ImportContext, build: (sequences: boolean) => tf.SymbolicTensor): Value[] {
  const wantY = ctx.consumed(node.output?.[0]);
  const out = build(wantY);
  if (!wantY) return [sym(out, false), { ...sym(out, false), layout: 'directions' }];
  const last = ctx.layer(
    new TimeStep({ index: -1, name: ctx.name({ ...node, name: `${node.name ?? ''}_last` }) }),
    sym(out, false),
  );
  return [
    { ...sym(out, false), layout: 'steps-directions' },
    { ...sym(last, false), layout: 'directions' },
  ];
}

/** ONNX GRU (gates z, r, h): linear_before_reset=1 (PyTorch's) → {@link GruResetAfter}; 0 → tfjs' GRU. */
const gru: Converter = (node, ctx, a) => {
  const hidden = checkAttributes(a, ['Sigmoid', 'Tanh']);
  const x = sequence(node, ctx);
  const features = x.t.shape[2] ?? 0;
  const w = weight(node, ctx, 1, 3 * hidden, features, 'W');
  const r = weight(node, ctx, 2, 3 * hidden, hidden, 'R');
  const [wb, rb] = biases(ctx.constant(node, 3), hidden, [0, 1, 2]);
  zeroState(node, ctx, 5, 'initial_h');
  const resetAfter = a.int('linear_before_reset', 0) === 1;
  return outputs(node, ctx, (returnSequences) => {
    const args = {
      units: hidden,
      returnSequences,
      name: ctx.name(node, 1),
      kernelInitializer: tf.initializers.zeros(),
      recurrentInitializer: tf.initializers.zeros(),
    };
    const weights = [kernel(w, hidden, features, [0, 1, 2]), kernel(r, hidden, hidden, [0, 1, 2])];
    if (resetAfter) {
      const bias = new Float32Array(6 * hidden);
      bias.set(wb);
      bias.set(rb, 3 * hidden);
      return ctx.layer(new GruResetAfter(args), x, [...weights, tf.tensor2d(bias, [2, 3 * hidden])]);
    }
    // Reset before the matmul: the recurrent bias of h is outside the reset product, so the biases add.
    const layer = tf.layers.gru({
      ...args,
      recurrentActivation: 'sigmoid',
      activation: 'tanh',
      kernelInitializer: 'zeros',
      recurrentInitializer: 'zeros',
    });
    return ctx.layer(layer, x, [...weights, tf.tensor1d(wb.map((v, i) => v + (rb[i] ?? 0)))]);
  });
};

/** ONNX LSTM (gates i, o, f, c) → tfjs' LSTM (gates i, f, c, o); B's input and recurrent biases add. */
const lstm: Converter = (node, ctx, a) => {
  const hidden = checkAttributes(a, ['Sigmoid', 'Tanh', 'Tanh']);
  if (a.int('input_forget', 0) !== 0) throw new OnnxNodeError('input_forget=1 (coupled gates) is not supported');
  const x = sequence(node, ctx);
  const features = x.t.shape[2] ?? 0;
  const order = [0, 2, 3, 1];
  const w = weight(node, ctx, 1, 4 * hidden, features, 'W');
  const r = weight(node, ctx, 2, 4 * hidden, hidden, 'R');
  const [wb, rb] = biases(ctx.constant(node, 3), hidden, order);
  zeroState(node, ctx, 5, 'initial_h');
  zeroState(node, ctx, 6, 'initial_c');
  if (ctx.input(node, 7)) throw new OnnxNodeError('peephole weights (P) are not supported');
  if (ctx.consumed(node.output?.[2])) throw new OnnxNodeError('the cell state output Y_c is not supported');
  return outputs(node, ctx, (returnSequences) => {
    const layer = tf.layers.lstm({
      units: hidden,
      returnSequences,
      activation: 'tanh',
      recurrentActivation: 'sigmoid',
      unitForgetBias: false,
      kernelInitializer: 'zeros',
      recurrentInitializer: 'zeros',
      name: ctx.name(node, 1),
    });
    const weights = [kernel(w, hidden, features, order), kernel(r, hidden, hidden, order)];
    return ctx.layer(layer, x, [...weights, tf.tensor1d(wb.map((v, i) => v + (rb[i] ?? 0)))]);
  });
};

/** ConstantOfShape: a constant (its shape may hold the batch size: then only a recurrent state reads it). */
const constantOfShape: Converter = (node, ctx, a) => {
  const shape = ctx.constant(node, 0);
  if (!shape) throw new OnnxNodeError('the shape must be constant');
  const value = a.has('value') ? (floats(a.constantValue('value'))[0] ?? 0) : 0;
  const dims = ints(shape);
  const n = dims.some(Number.isNaN) ? 1 : dims.reduce((p, q) => p * q, 1);
  return [{ kind: 'const', c: { dims, data: new Float32Array(n).fill(value) } }];
};

/** Transpose of a recurrent input or output between batch-first and time-major (perm 1,0,2), or undefined. */
export function transposeRecurrent(x: SymValue, perm: number[]): Value | undefined {
  if (x.t.shape.length !== 3 || perm.join() !== '1,0,2' || x.nchw) return undefined;
  if (x.layout === undefined) return { ...x, layout: 'time-major' };
  if (x.layout === 'time-major') return sym(x.t, false);
  return undefined;
}

/** Squeeze of the directions axis of Y (axis 1) or Y_h (axis 0), or undefined when it is not one. */
export function squeezeRecurrent(x: SymValue, axes: number[]): Value | undefined {
  if (x.layout === 'steps-directions' && axes.join() === '1') return { ...x, layout: 'time-major' };
  if (x.layout === 'directions' && axes.join() === '0') return sym(x.t, false);
  return undefined;
}

/** Gather of one direction (Y_h[0]), one step of a sequence (`out[:, -1]`), or an embedding lookup. */
export function gatherRecurrent(
  node: NodeProto,
  ctx: ImportContext,
  axis: number,
  idx: ConstTensor | undefined,
): Value | undefined {
  const data = ctx.input(node, 0);
  if (data?.kind === 'const') {
    const ids = ctx.input(node, 1);
    if (ids?.kind !== 'sym') return undefined;
    if (data.c.dims.length !== 2 || axis !== 0)
      throw new OnnxNodeError('only embedding lookups (axis 0 of a [vocabulary, dim] table) are supported');
    const [vocab, dim] = data.c.dims as [number, number];
    const layer = tf.layers.embedding({ inputDim: vocab, outputDim: dim, name: ctx.name(node, 0) });
    return sym(ctx.layer(layer, ids, [tf.tensor2d(floats(data.c), [vocab, dim])]), false);
  }
  if (data?.kind !== 'sym' || !idx || idx.dims.length > 1 || (idx.dims.length === 1 && idx.dims[0] !== 1))
    return undefined;
  const index = ints(idx)[0] ?? 0;
  const keep = idx.dims.length === 1; // [1] indices keep the axis
  if (data.layout === 'directions' && axis === 0 && data.stack && !keep) {
    const layer = data.stack[index < 0 ? data.stack.length + index : index];
    if (!layer) throw new OnnxNodeError(`index ${index} is outside the ${data.stack.length} stacked layers`);
    return sym(layer.t, false);
  }
  if (data.layout === 'directions' && axis === 0 && !data.stack && (index === 0 || index === -1))
    return keep ? data : sym(data.t, false);
  const stepAxis = data.layout === 'time-major' ? 0 : data.layout === undefined ? 1 : -1;
  if (keep || axis !== stepAxis || data.t.shape.length !== 3) return undefined;
  const layer = new TimeStep({ index, name: ctx.name(node) });
  return sym(ctx.layer(layer, sym(data.t, false)), false);
}

/** Concat of the final states of stacked layers (`num_layers` > 1: torch concatenates their Y_h on axis 0). */
export function concatRecurrent(values: Value[], axis: number): Value {
  const states = values.filter((v): v is SymValue => v.kind === 'sym' && v.layout === 'directions');
  if (states.length !== values.length || axis !== 0)
    throw new OnnxNodeError('only the final states of stacked recurrent layers may be concatenated (axis 0)');
  const stack = states.flatMap((s) => s.stack ?? [s]);
  const last = stack[stack.length - 1];
  if (!last) throw new OnnxNodeError('has no inputs');
  return { ...last, layout: 'directions', stack };
}

/** Slice of a zero constant: the per-layer slices torch takes of a stacked GRU/LSTM's zero initial state. */
const slice: Converter = (node, ctx) => {
  const v = ctx.input(node, 0);
  if (v?.kind !== 'const' || Array.from(v.c.data).some((x) => x !== 0))
    throw new OnnxNodeError("Slice is supported only on a recurrent layer's zero initial state");
  return [v];
};

/** Converters of the recurrent operators. */
export const RECURRENT_OPS: Record<string, Converter> = {
  GRU: gru,
  LSTM: lstm,
  ConstantOfShape: constantOfShape,
  Slice: slice,
};
