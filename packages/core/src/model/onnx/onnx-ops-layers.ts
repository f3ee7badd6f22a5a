import * as tf from '@tensorflow/tfjs';
import { EngramBatchNormalization } from '../batch-normalization.layer.js';
import { SeededDropout } from '../seeded-dropout.layer.js';
import type { Converter, ImportContext } from './onnx-context.js';
import { Gelu } from './onnx-layers.js';
import type { NodeProto } from './onnx-proto.js';
import {
  Attributes,
  floats,
  OnnxNodeError,
  size,
  sym,
  transposeData,
  type SymValue,
  type Value,
} from './onnx-values.js';

/** A dense layer from a `[in, out]` kernel (scaled) and an optional bias. */
function dense(
  node: NodeProto,
  ctx: ImportContext,
  x: SymValue,
  kernel: Float32Array,
  dims: number[],
  bias?: Float32Array,
): Value[] {
  const [inUnits, units] = dims as [number, number];
  const layer = tf.layers.dense({
    units,
    useBias: bias !== undefined,
    kernelInitializer: 'zeros',
    name: ctx.name(node, 1),
  });
  const weights: tf.Tensor[] = [tf.tensor2d(kernel, [inUnits, units])];
  if (bias) weights.push(tf.tensor1d(bias.length === units ? bias : new Float32Array(units).fill(bias[0] ?? 0)));
  return [sym(ctx.layer(layer, x, weights), false)];
}

/** Gemm `alpha·A·B' + beta·C` with constant B and C: a dense layer (transA is refused). */
const gemm: Converter = (node, ctx, a) => {
  const x = ctx.sym(node, 0);
  if (a.int('transA', 0) !== 0) throw new OnnxNodeError('transA=1 (a transposed input) is not supported');
  if (x.t.shape.length !== 2) throw new OnnxNodeError(`input must be [batch, features], got rank ${x.t.shape.length}`);
  const b = ctx.constant(node, 1);
  if (b?.dims.length !== 2) throw new OnnxNodeError('B must be a constant matrix');
  const transB = a.int('transB', 0) === 1;
  const [r, c] = b.dims as [number, number];
  let kernel = transB ? transposeData(floats(b), [r, c], [1, 0]) : floats(b).slice();
  const dims = transB ? [c, r] : [r, c];
  const alpha = a.float('alpha', 1);
  if (alpha !== 1) kernel = kernel.map((v) => v * alpha);
  const cc = ctx.constant(node, 2);
  const beta = a.float('beta', 1);
  const bias = cc ? floats(cc).map((v) => v * beta) : undefined;
  if (cc && size(cc.dims) !== 1 && size(cc.dims) !== dims[1]) throw new OnnxNodeError('C must be a bias vector');
  return dense(node, ctx, x, kernel, dims, bias);
};

/** MatMul by a constant matrix (optionally fused with the Add of a bias vector that follows it). */
const matMul: Converter = (node, ctx) => {
  const x = ctx.sym(node, 0);
  const b = ctx.constant(node, 1);
  if (b?.dims.length !== 2) throw new OnnxNodeError('the second operand must be a constant matrix');
  if (x.nchw) throw new OnnxNodeError('MatMul on an image tensor is not supported');
  const bias = node.input?.[2] ? ctx.constant(node, 2) : undefined; // set by the MatMul+Add fusion
  return dense(node, ctx, x, floats(b).slice(), b.dims, bias ? floats(bias) : undefined);
};

/** ONNX explicit pads `[top, left, bottom, right]` against TF's 'same' rule for this input size. */
function samePads(inSize: number[], kernel: number[], strides: number[], dilations: number[]): number[] {
  const begin: number[] = [];
  const end: number[] = [];
  inSize.forEach((n, i) => {
    const s = strides[i] ?? 1;
    const k = ((kernel[i] ?? 1) - 1) * (dilations[i] ?? 1) + 1;
    const total = Math.max((Math.ceil(n / s) - 1) * s + k - n, 0);
    begin.push(Math.floor(total / 2));
    end.push(total - Math.floor(total / 2));
  });
  return [...begin, ...end];
}

/** tfjs padding for ONNX pads: 'valid', 'same' when they agree, else explicit zero padding first. */
function padding(
  node: NodeProto,
  ctx: ImportContext,
  x: SymValue,
  a: Attributes,
  kernel: number[],
  strides: number[],
  dilations: number[],
  allowZeroPad: boolean,
): { x: SymValue; padding: 'valid' | 'same' } {
  const h = x.t.shape[1] ?? 0;
  const w = x.t.shape[2] ?? 0;
  const autoPad = a.string('auto_pad', 'NOTSET');
  const same = samePads([h, w], kernel, strides, dilations);
  if (autoPad === 'SAME_UPPER') return { x, padding: 'same' };
  if (autoPad === 'VALID') return { x, padding: 'valid' };
  if (autoPad !== 'NOTSET') throw new OnnxNodeError(`auto_pad=${autoPad} is not supported`);
  const pads = a.ints('pads', [0, 0, 0, 0]);
  if (pads.every((p) => p === 0)) return { x, padding: 'valid' };
  if (pads.every((p, i) => p === same[i])) return { x, padding: 'same' };
  if (!allowZeroPad)
    throw new OnnxNodeError(`pads [${pads.join(', ')}] differ from 'same' padding and cannot be zero padding`);
  const [t, l, b, r] = pads as [number, number, number, number];
  const pad = tf.layers.zeroPadding2d({
    padding: [
      [t, b],
      [l, r],
    ],
    name: ctx.name({ ...node, input: [], name: `${node.name ?? ''}_pad` }),
  });
  return { x: sym(ctx.layer(pad, x), true), padding: 'valid' };
}

/** Conv (2-D, group 1): weights `[out, in, kh, kw]` become a channels-last `[kh, kw, in, out]` kernel. */
const conv: Converter = (node, ctx, a) => {
  const x0 = ctx.sym(node, 0);
  if (!x0.nchw) throw new OnnxNodeError('only 2-D convolutions (NCHW inputs) are supported');
  const w = ctx.constant(node, 1);
  if (w?.dims.length !== 4) throw new OnnxNodeError('the weight must be a constant [out, in, kh, kw]');
  if (a.int('group', 1) !== 1)
    throw new OnnxNodeError(`group=${a.int('group', 1)} (grouped or depthwise convolution) is not supported`);
  const [o, i, kh, kw] = w.dims as [number, number, number, number];
  const strides = a.ints('strides', [1, 1]);
  const dilations = a.ints('dilations', [1, 1]);
  const { x, padding: pad } = padding(node, ctx, x0, a, [kh, kw], strides, dilations, true);
  const b = ctx.constant(node, 2);
  const layer = tf.layers.conv2d({
    filters: o,
    kernelSize: [kh, kw],
    strides,
    dilationRate: dilations as [number, number],
    padding: pad,
    useBias: b !== undefined,
    kernelInitializer: 'zeros',
    name: ctx.name(node, 1),
  });
  const weights: tf.Tensor[] = [tf.tensor4d(transposeData(floats(w), w.dims, [2, 3, 1, 0]), [kh, kw, i, o])];
  if (b) weights.push(tf.tensor1d(floats(b)));
  return [sym(ctx.layer(layer, x, weights), true)];
};

/** BatchNormalization in inference form (scale, bias, running mean and variance as weights). */
const batchNorm: Converter = (node, ctx, a) => {
  const x = ctx.sym(node, 0);
  if (a.int('training_mode', 0) !== 0)
    throw new OnnxNodeError('training_mode=1 is not supported: export the model in eval mode');
  const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => ctx.constant(node, i));
  if (!scale || !bias || !mean || !variance) throw new OnnxNodeError('needs constant scale, B, mean and var');
  const axis = x.nchw || x.t.shape.length === 2 ? -1 : 1;
  const layer = new EngramBatchNormalization({
    axis,
    epsilon: a.float('epsilon', 1e-5),
    momentum: a.float('momentum', 0.9),
    name: ctx.name(node, 1),
  });
  const w = [scale, bias, mean, variance].map((c) => tf.tensor1d(floats(c)));
  return [{ ...sym(ctx.layer(layer, x, w)), nchw: x.nchw }];
};

/** MaxPool / AveragePool (2-D, no ceil mode). */
function pool(kind: 'max' | 'average'): Converter {
  return (node, ctx, a) => {
    const x0 = ctx.sym(node, 0);
    if (!x0.nchw) throw new OnnxNodeError('only 2-D pooling (NCHW inputs) is supported');
    if (a.int('ceil_mode', 0) !== 0) throw new OnnxNodeError('ceil_mode=1 is not supported');
    const k = a.ints('kernel_shape', []);
    const strides = a.ints('strides', [1, 1]);
    if (a.ints('dilations', [1, 1]).some((d) => d !== 1)) throw new OnnxNodeError('dilated pooling is not supported');
    const countPad = kind === 'average' && a.int('count_include_pad', 0) === 1;
    const { x, padding: pad } = padding(node, ctx, x0, a, k, strides, [1, 1], countPad);
    const args = {
      poolSize: k as [number, number],
      strides: strides as [number, number],
      padding: pad,
      name: ctx.name(node),
    };
    const layer = kind === 'max' ? tf.layers.maxPooling2d(args) : tf.layers.averagePooling2d(args);
    return [sym(ctx.layer(layer, x), true)];
  };
}

/** GlobalAveragePool: tfjs pools to `[N, C]`; reshaped to `[1, 1, C]` so it stays the `[N, C, 1, 1]` ONNX has. */
const globalAveragePool: Converter = (node, ctx) => {
  const x = ctx.sym(node, 0);
  if (!x.nchw) throw new OnnxNodeError('only NCHW inputs are supported');
  const pooled = ctx.layer(tf.layers.globalAveragePooling2d({ name: ctx.name(node) }), x);
  const c = x.t.shape[3] ?? 0;
  const reshape = tf.layers.reshape({
    targetShape: [1, 1, c],
    name: ctx.name({ ...node, name: `${node.name ?? ''}_keepdims` }),
  });
  return [sym(ctx.layer(reshape, sym(pooled)), true)];
};

/**
 * ReduceMean over the two spatial axes of an image — torch's `x.mean((2, 3))`, Engram's export of
 * global average pooling (axes 1, 2 of an NHWC tensor) — as `globalAveragePooling2d` (reshaped to
 * `[1, 1, C]` when `keepdims`); other axes are refused.
 */
const reduceMean: Converter = (node, ctx, a) => {
  const x = ctx.sym(node, 0);
  const rank = x.t.shape.length;
  const axesInput = ctx.opset >= 18 ? ctx.constant(node, 1) : undefined;
  const axes = (axesInput ? Array.from(floats(axesInput)) : a.ints('axes', [])).map((d) => (d < 0 ? d + rank : d));
  const spatial = x.nchw ? [2, 3] : [1, 2];
  if (rank !== 4 || axes.length !== 2 || !spatial.every((d) => axes.includes(d)))
    throw new OnnxNodeError(
      `the mean over axes [${axes.join(', ')}] is not supported (only the spatial mean of an image)`,
    );
  const pooled = ctx.layer(tf.layers.globalAveragePooling2d({ name: ctx.name(node) }), x);
  if (a.int('keepdims', 1) === 0) return [sym(pooled)];
  const reshape = tf.layers.reshape({
    targetShape: [1, 1, x.t.shape[3] ?? 0],
    name: ctx.name({ ...node, name: `${node.name ?? ''}_keepdims` }),
  });
  return [sym(ctx.layer(reshape, sym(pooled)), x.nchw)];
};

/** An activation function as a tfjs Activation layer (what `set-activation` adjusts). */
function activation(fn: 'relu' | 'sigmoid' | 'tanh'): Converter {
  return (node, ctx) => {
    const x = ctx.sym(node, 0);
    return [{ ...sym(ctx.layer(tf.layers.activation({ activation: fn, name: ctx.name(node) }), x)), nchw: x.nchw }];
  };
}

const leakyRelu: Converter = (node, ctx, a) => {
  const x = ctx.sym(node, 0);
  const layer = tf.layers.leakyReLU({ alpha: a.float('alpha', 0.01), name: ctx.name(node) });
  return [{ ...sym(ctx.layer(layer, x)), nchw: x.nchw }];
};

const softmax: Converter = (node, ctx, a) => {
  const x = ctx.sym(node, 0);
  const rank = x.t.shape.length;
  const axis = a.int('axis', ctx.opset >= 13 ? -1 : 1);
  const last = axis === -1 || axis === rank - 1;
  if (!(last && !x.nchw) && !(x.nchw && axis === 1))
    throw new OnnxNodeError(`softmax over axis ${axis} is not supported (only the class axis)`);
  return [{ ...sym(ctx.layer(tf.layers.softmax({ axis: -1, name: ctx.name(node) }), x)), nchw: x.nchw }];
};

/** Gelu (opset 20, or the fused Erf pattern torch writes before it). */
const gelu: Converter = (node, ctx, a) => {
  const x = ctx.sym(node, 0);
  const approximate = a.string('approximate', 'none') === 'tanh' ? 'tanh' : 'none';
  return [{ ...sym(ctx.layer(new Gelu({ name: ctx.name(node), approximate }), x)), nchw: x.nchw }];
};

/** Dropout: Engram's seeded dropout (active in training only); the mask output is refused. */
const dropout: Converter = (node, ctx, a) => {
  const x = ctx.sym(node, 0);
  if (node.output?.[1]) throw new OnnxNodeError('the mask output is not supported');
  const ratioInput = ctx.constant(node, 1);
  const rate = ratioInput ? (floats(ratioInput)[0] ?? 0.5) : a.float('ratio', 0.5);
  if (rate <= 0) return [x];
  return [{ ...sym(ctx.layer(new SeededDropout({ rate, name: ctx.name(node) }), x)), nchw: x.nchw }];
};

/** Converters of the operators that become tfjs layers with weights or activations. */
export const LAYER_OPS: Record<string, Converter> = {
  Gemm: gemm,
  MatMul: matMul,
  Conv: conv,
  BatchNormalization: batchNorm,
  MaxPool: pool('max'),
  AveragePool: pool('average'),
  GlobalAveragePool: globalAveragePool,
  ReduceMean: reduceMean,
  Relu: activation('relu'),
  Sigmoid: activation('sigmoid'),
  Tanh: activation('tanh'),
  LeakyRelu: leakyRelu,
  Softmax: softmax,
  Gelu: gelu,
  Dropout: dropout,
};
