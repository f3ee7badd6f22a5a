import type * as tf from '@tensorflow/tfjs';
import { where, type LayerCall, type LayerEmitter } from './onnx-layer-emitter.js';
import type { OnnxGraphWriter } from './onnx-graph-writer.js';
import { transposeData } from './onnx-values.js';

/**
 * ONNX emitters of the sequence layers — Embedding (Gather of the token ids, cast to int64), GRU
 * (Engram's reset-after `EngramGRU` as `linear_before_reset=1`, tfjs' GRU as 0), LSTM and the
 * importer's `OnnxTimeStep` — in the form the importer reads back: batch-first tensors transposed to
 * `[steps, batch, features]` around the recurrent operator, Y_h squeezed to `[batch, hidden]`.
 */

/** ONNX names of the tfjs activations a recurrent operator takes (ONNX's defaults match tfjs' constants). */
const RNN_ACTIVATIONS: Readonly<Record<string, string>> = {
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
  hardSigmoid: 'HardSigmoid',
  hard_sigmoid: 'HardSigmoid',
  relu: 'Relu',
  softsign: 'Softsign',
  softplus: 'Softplus',
  elu: 'Elu',
};

function activation(call: LayerCall, c: Record<string, unknown>, key: string): string {
  const name = typeof c[key] === 'string' ? c[key] : '';
  const onnx = RNN_ACTIVATIONS[name];
  if (!onnx) throw new Error(`${where(call)}: ${key} "${name}" has no ONNX recurrent equivalent`);
  return onnx;
}

function weights(layer: tf.layers.Layer): Array<{ shape: number[]; data: Float32Array }> {
  return layer.getWeights().map((w) => ({ shape: w.shape, data: new Float32Array(w.dataSync()) }));
}

/** A tfjs kernel `[cols, gates·H]` as ONNX `[1, gates·H, cols]`, gate block k taken from tfjs block `order[k]`. */
function onnxKernel(kernel: { shape: number[]; data: Float32Array }, hidden: number, order: number[]): Float32Array {
  const [cols, n] = kernel.shape as [number, number];
  const rows = transposeData(kernel.data, [cols, n], [1, 0]);
  const out = new Float32Array(rows.length);
  order.forEach((from, to) =>
    out.set(rows.subarray(from * hidden * cols, (from + 1) * hidden * cols), to * hidden * cols),
  );
  return out;
}

function reorder(bias: Float32Array, hidden: number, order: number[]): Float32Array {
  const out = new Float32Array(bias.length);
  order.forEach((from, to) => out.set(bias.subarray(from * hidden, (from + 1) * hidden), to * hidden));
  return out;
}

/** Emits the recurrent operator on the batch-first input; returns `[batch, hidden]` or `[batch, steps, hidden]`. */
function recurrent(
  g: OnnxGraphWriter,
  call: LayerCall,
  c: Record<string, unknown>,
  op: 'GRU' | 'LSTM',
  order: number[],
  bias: (hidden: number, b: Float32Array | undefined) => Float32Array,
  attrs: Record<string, number>,
): string {
  const [kernel, rec, b] = weights(call.layer);
  const x = call.inputs[0];
  if (!kernel || !rec || x === undefined) throw new Error(`${where(call)} lacks its weights`);
  const hidden = rec.shape[0] ?? 0;
  const features = kernel.shape[0] ?? 0;
  const gates = order.length;
  const inputs = [
    g.node('Transpose', [x], { perm: [1, 0, 2] }),
    g.floats(`${call.layer.name}.W`, [1, gates * hidden, features], onnxKernel(kernel, hidden, order)),
    g.floats(`${call.layer.name}.R`, [1, gates * hidden, hidden], onnxKernel(rec, hidden, order)),
    g.floats(`${call.layer.name}.B`, [1, 2 * gates * hidden], bias(hidden, b?.data)),
  ];
  const acts = [activation(call, c, 'recurrentActivation'), activation(call, c, 'activation')];
  if (op === 'LSTM') acts.push(acts[1] ?? 'Tanh');
  const sequences = c['returnSequences'] === true;
  const [y, yh] = g.nodeOutputs(op, inputs, { hidden_size: hidden, activations: { strings: acts }, ...attrs }, [
    sequences,
    !sequences,
  ]);
  if (!sequences) return g.node('Squeeze', [yh ?? '', g.int64('axes', [0])]);
  const steps = g.node('Squeeze', [y ?? '', g.int64('axes', [1])]);
  return g.node('Transpose', [steps], { perm: [1, 0, 2] });
}

/** Keras' reset-after bias `[2, 3H]` is ONNX's `[Wb | Rb]` already; a single bias gets zero recurrent biases. */
const gruBias = (hidden: number, b: Float32Array | undefined): Float32Array => {
  const out = new Float32Array(6 * hidden);
  if (b) out.set(b);
  return out;
};

/** tfjs LSTM gates i, f, c, o → ONNX i, o, f, c. */
const LSTM_ORDER = [0, 3, 1, 2];

/** Emitters by tfjs class name. */
export const RECURRENT_EMITTERS: Readonly<Record<string, LayerEmitter>> = {
  Embedding: (g, call) => {
    const [table] = weights(call.layer);
    const x = call.inputs[0];
    if (!table || x === undefined) throw new Error(`${where(call)} lacks its embeddings`);
    const ids = g.node('Cast', [x], { to: 7 });
    return g.node('Gather', [g.floats(`${call.layer.name}.embeddings`, table.shape, table.data), ids], { axis: 0 });
  },
  EngramGRU: (g, call, c) => recurrent(g, call, c, 'GRU', [0, 1, 2], gruBias, { linear_before_reset: 1 }),
  GRU: (g, call, c) => recurrent(g, call, c, 'GRU', [0, 1, 2], gruBias, { linear_before_reset: 0 }),
  LSTM: (g, call, c) =>
    recurrent(
      g,
      call,
      c,
      'LSTM',
      LSTM_ORDER,
      (hidden, b) => {
        const out = new Float32Array(8 * hidden);
        if (b) out.set(reorder(b, hidden, LSTM_ORDER));
        return out;
      },
      {},
    ),
  OnnxTimeStep: (g, call, c) => {
    const x = call.inputs[0];
    if (x === undefined) throw new Error(`${where(call)} has no input`);
    return g.node('Gather', [x, g.int64('step', [Number(c['index'] ?? -1)], [])], { axis: 1 });
  },
};
