import type * as tf from '@tensorflow/tfjs';
import { emitActivation, emitGelu, type OnnxGraphWriter } from './onnx-graph-writer.js';
import { RECURRENT_EMITTERS } from './onnx-export-recurrent.js';
import { where, type LayerCall, type LayerEmitter } from './onnx-layer-emitter.js';
import { transposeData } from './onnx-values.js';

const pair = (v: unknown, fallback: number): [number, number] => {
  const a = Array.isArray(v) ? (v as number[]) : [typeof v === 'number' ? v : fallback];
  return [a[0] ?? fallback, a[1] ?? a[0] ?? fallback];
};

/** Copies of the layer's current weights with their shapes (never the variables themselves). */
function weights(layer: tf.layers.Layer): Array<{ shape: number[]; data: Float32Array }> {
  return layer.getWeights().map((w) => ({ shape: w.shape, data: new Float32Array(w.dataSync()) }));
}

/** ONNX `[top, left, bottom, right]` pads of tfjs 'same'/'valid' padding for an input of `size`. */
function pads(padding: unknown, size: number[], kernel: number[], strides: number[], dilations: number[]): number[] {
  if (padding !== 'same') return [0, 0, 0, 0];
  const begin: number[] = [];
  const end: number[] = [];
  size.forEach((n, i) => {
    const s = strides[i] ?? 1;
    const k = ((kernel[i] ?? 1) - 1) * (dilations[i] ?? 1) + 1;
    const total = Math.max((Math.ceil(n / s) - 1) * s + k - n, 0);
    begin.push(Math.floor(total / 2));
    end.push(total - Math.floor(total / 2));
  });
  return [...begin, ...end];
}

function only(call: LayerCall): string {
  const x = call.inputs[0];
  if (x === undefined || call.inputs.length !== 1) throw new Error(`layer "${call.layer.name}" expects one input`);
  return x;
}

/** A layer config's activation identifier (tfjs serialises it as a string). */
const activationName = (c: Record<string, unknown>): string =>
  typeof c['activation'] === 'string' ? c['activation'] : 'linear';

const dense: LayerEmitter = (g, call, c) => {
  const [kernel, bias] = weights(call.layer);
  if (!kernel) throw new Error(`${where(call)} has no kernel`);
  let y = g.node('MatMul', [only(call), g.floats(`${call.layer.name}.kernel`, kernel.shape, kernel.data)]);
  if (bias) y = g.node('Add', [y, g.floats(`${call.layer.name}.bias`, bias.shape, bias.data)]);
  return emitActivation(g, activationName(c), y, where(call));
};

const conv2d: LayerEmitter = (g, call, c) => {
  if (c['dataFormat'] !== undefined && c['dataFormat'] !== 'channelsLast')
    throw new Error(`${where(call)}: only channelsLast is exported`);
  const [kernel, bias] = weights(call.layer);
  if (!kernel) throw new Error(`${where(call)} has no kernel`);
  const [kh, kw, i, o] = kernel.shape as [number, number, number, number];
  const w = g.floats(
    `${call.layer.name}.kernel`,
    [o, i, kh, kw],
    transposeData(kernel.data, kernel.shape, [3, 2, 0, 1]),
  );
  const inputs = [g.toChannelsFirst(only(call)), w];
  if (bias) inputs.push(g.floats(`${call.layer.name}.bias`, bias.shape, bias.data));
  const strides = pair(c['strides'], 1);
  const dilations = pair(c['dilationRate'], 1);
  const shape = call.shapes[0] ?? [];
  const p = pads(c['padding'], [shape[1] ?? 0, shape[2] ?? 0], [kh, kw], strides, dilations);
  const y = g.node('Conv', inputs, { kernel_shape: [kh, kw], strides, dilations, pads: p, group: 1 });
  return emitActivation(g, activationName(c), g.toChannelsLast(y), where(call));
};

function pool(op: 'MaxPool' | 'AveragePool'): LayerEmitter {
  return (g, call, c) => {
    const k = pair(c['poolSize'], 2);
    const strides = c['strides'] === null || c['strides'] === undefined ? k : pair(c['strides'], 1);
    const shape = call.shapes[0] ?? [];
    const p = pads(c['padding'], [shape[1] ?? 0, shape[2] ?? 0], k, strides, [1, 1]);
    const y = g.node(op, [g.toChannelsFirst(only(call))], { kernel_shape: k, strides, pads: p });
    return g.toChannelsLast(y);
  };
}

const batchNorm: LayerEmitter = (g, call, c) => {
  const rank = (call.shapes[0] ?? []).length;
  const axisRaw = Array.isArray(c['axis']) ? (c['axis'] as number[])[0] : (c['axis'] as number | undefined);
  const axis = (axisRaw ?? -1) < 0 ? (axisRaw ?? -1) + rank : (axisRaw ?? -1);
  const channels = Number((call.shapes[0] ?? [])[axis] ?? 0);
  const ws = weights(call.layer);
  const ones = new Float32Array(channels).fill(1);
  const zeros = new Float32Array(channels);
  const gamma = c['scale'] === false ? ones : ws.shift()?.data;
  const beta = c['center'] === false ? zeros : ws.shift()?.data;
  const [mean, variance] = ws;
  if (!gamma || !beta || !mean || !variance) throw new Error(`${where(call)} lacks its weights`);
  const names = [gamma, beta, mean.data, variance.data].map((d, i) =>
    g.floats(`${call.layer.name}.${['gamma', 'beta', 'mean', 'var'][i] ?? ''}`, [channels], d),
  );
  const attrs = {
    epsilon: { float: Number(c['epsilon'] ?? 1e-3) },
    momentum: { float: Number(c['momentum'] ?? 0.99) },
  };
  if (axis === 1) return g.node('BatchNormalization', [only(call), ...names], attrs);
  if (axis !== rank - 1) throw new Error(`${where(call)}: batch norm over axis ${axis} is not exported`);
  if (rank === 2) return g.node('BatchNormalization', [only(call), ...names], attrs);
  if (rank !== 4)
    throw new Error(`${where(call)}: batch norm of rank-${rank} tensors over the last axis is not exported`);
  return g.toChannelsLast(g.node('BatchNormalization', [g.toChannelsFirst(only(call)), ...names], attrs));
};

const merge =
  (op: 'Add' | 'Mul'): LayerEmitter =>
  (g, call) => {
    const [first, ...rest] = call.inputs;
    if (first === undefined) throw new Error(`${where(call)} has no inputs`);
    return rest.reduce((acc, x) => g.node(op, [acc, x]), first);
  };

const concatenate: LayerEmitter = (g, call, c) => {
  const rank = (call.shapes[0] ?? []).length;
  const axis = Number(c['axis'] ?? -1);
  return g.node('Concat', call.inputs, { axis: axis < 0 ? axis + rank : axis });
};

const zeroPadding: LayerEmitter = (g, call, c) => {
  const p = c['padding'] as [[number, number], [number, number]] | [number, number] | number;
  const [[t, b], [l, r]] = Array.isArray(p)
    ? Array.isArray(p[0])
      ? (p as [[number, number], [number, number]])
      : ([
          [p[0], p[0]],
          [p[1], p[1]],
        ] as [[number, number], [number, number]])
    : [
        [p, p],
        [p, p],
      ];
  return g.node('Pad', [only(call), g.int64('pads', [0, t, l, 0, 0, b, r, 0])], { mode: 'constant' });
};

const binary: Record<string, (g: OnnxGraphWriter, a: string, b: string) => string> = {
  add: (g, a, b) => g.node('Add', [a, b]),
  sub: (g, a, b) => g.node('Sub', [a, b]),
  rsub: (g, a, b) => g.node('Sub', [b, a]),
  mul: (g, a, b) => g.node('Mul', [a, b]),
  div: (g, a, b) => g.node('Div', [a, b]),
  rdiv: (g, a, b) => g.node('Div', [b, a]),
};

const constantOp: LayerEmitter = (g, call, c) => {
  const [w] = weights(call.layer);
  const f = binary[String(c['op'])];
  if (!w || !f) throw new Error(`${where(call)} lacks its constant`);
  return f(g, only(call), g.floats(`${call.layer.name}.constant`, w.shape, w.data));
};

const binaryOp: LayerEmitter = (g, call, c) => {
  const f = binary[String(c['op'])];
  const [a, b] = call.inputs;
  if (!f || a === undefined || b === undefined) throw new Error(`${where(call)} needs two inputs`);
  return f(g, a, b);
};

/** Emitters by tfjs class name. */
export const LAYER_EMITTERS: Readonly<Record<string, LayerEmitter>> = {
  Dense: dense,
  Conv2D: conv2d,
  MaxPooling2D: pool('MaxPool'),
  AveragePooling2D: pool('AveragePool'),
  GlobalAveragePooling2D: (g, call) => g.node('ReduceMean', [only(call)], { axes: [1, 2], keepdims: 0 }),
  BatchNormalization: batchNorm,
  Activation: (g, call, c) => emitActivation(g, activationName(c), only(call), where(call)),
  ReLU: (g, call) => g.node('Relu', [only(call)]),
  LeakyReLU: (g, call, c) => g.node('LeakyRelu', [only(call)], { alpha: { float: Number(c['alpha'] ?? 0.3) } }),
  Softmax: (g, call) => g.node('Softmax', [only(call)], { axis: -1 }),
  Gelu: (g, call, c) => {
    if (c['approximate'] === 'tanh') throw new Error(`${where(call)}: the tanh approximation is not exported`);
    return emitGelu(g, only(call));
  },
  Flatten: (g, call) => g.node('Flatten', [only(call)], { axis: 1 }),
  Reshape: (g, call, c) => g.node('Reshape', [only(call), g.int64('shape', [0, ...(c['targetShape'] as number[])])]),
  Permute: (g, call, c) => g.node('Transpose', [only(call)], { perm: [0, ...(c['dims'] as number[])] }),
  Dropout: (g, call) => g.node('Identity', [only(call)]),
  Add: merge('Add'),
  Multiply: merge('Mul'),
  Concatenate: concatenate,
  ZeroPadding2D: zeroPadding,
  OnnxConstantOp: constantOp,
  OnnxBinaryOp: binaryOp,
  ...RECURRENT_EMITTERS,
};
