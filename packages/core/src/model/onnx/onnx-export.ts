import type * as tf from '@tensorflow/tfjs';
import { LAYER_EMITTERS } from './onnx-export-layers.js';
import { OnnxGraphWriter } from './onnx-graph-writer.js';
import './onnx-layers.js';
import { encodeModel, type ValueInfoProto } from './onnx-proto.js';

/** The opset Engram writes (supported by every ONNX Runtime since 1.8). */
export const EXPORT_OPSET = 13;

/** A fitted `normalize` step, `(x - mean) / (std + epsilon)` with mean/std per feature, channel or one. */
export interface NormalizeStep {
  readonly mean: readonly number[];
  readonly std: readonly number[];
  readonly epsilon: number;
}

/** How {@link exportOnnx} shapes the graph. */
export interface OnnxExportOptions {
  /** Softmax after every output (probabilities instead of logits). */
  readonly softmax: boolean;
  /** Normalisation steps applied inside the graph, in order, to the raw input. */
  readonly normalize: readonly NormalizeStep[];
  /** Image models: take `[N, C, H, W]` (PyTorch's layout) instead of Engram's `[N, H, W, C]`. */
  readonly channelsFirst: boolean;
  /** Written to the model's `metadata_props`. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly producerVersion: string;
}

function valueInfo(name: string, dims: Array<number | string>): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: 1,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

/** `(x - mean) / (std + eps)` broadcast like Engram's normalize: one value, one per last axis, or per feature. */
function emitNormalize(g: OnnxGraphWriter, x: string, step: NormalizeStep, shape: number[]): string {
  const k = step.mean.length;
  const features = shape.reduce((a, b) => a * b, 1);
  const last = shape[shape.length - 1] ?? 1;
  const dims = k === 1 ? [] : k === last ? [k] : k === features ? shape : undefined;
  if (!dims) throw new Error(`normalize has ${k} statistics; the input has ${last} channels and ${features} features`);
  const mean = g.floats('normalize.mean', dims, Float32Array.from(step.mean));
  const std = g.floats(
    'normalize.std',
    dims,
    Float32Array.from(step.std, (s) => s + step.epsilon),
  );
  return g.node('Div', [g.node('Sub', [x, mean]), std]);
}

/**
 * Writes a tfjs Layers model as an ONNX model (opset {@link EXPORT_OPSET}): one input `input`, the
 * model's outputs as `logits` (or `probabilities`; `output_<i>` when there are several). Tensors of
 * images stay NHWC between operators; convolutions and pooling are wrapped in Transposes. Throws for
 * a layer it cannot write, naming it.
 */
export function exportOnnx(model: tf.LayersModel, options: OnnxExportOptions): Uint8Array {
  const g = new OnnxGraphWriter();
  const names = new Map<number, string>();
  const input = model.inputs[0];
  if (!input || model.inputs.length !== 1) throw new Error('ONNX export takes models with one input');
  const sample = input.shape.slice(1).map((d) => d ?? -1);
  const image = sample.length === 3 && options.channelsFirst;
  const inputDims: Array<number | string> = image
    ? ['batch', sample[2] ?? 0, sample[0] ?? 0, sample[1] ?? 0]
    : ['batch', ...sample];
  let x = image ? g.toChannelsLast('input') : 'input';
  for (const step of options.normalize) x = emitNormalize(g, x, step, sample);
  names.set(input.id, x);

  const emitted = new Set<object>();
  /** Emits the layer call giving `t` after the calls it reads (depth first from the outputs). */
  const visit = (t: tf.SymbolicTensor): void => {
    if (names.has(t.id)) return;
    const layer = t.sourceLayer;
    const node = layer.inboundNodes[t.nodeIndex];
    if (!node || emitted.has(node)) throw new Error(`layer "${layer.name}" is not connected to the model's input`);
    emitted.add(node);
    node.inputTensors.forEach(visit);
    const emit = LAYER_EMITTERS[layer.getClassName()];
    if (!emit) throw new Error(`layer "${layer.name}" (${layer.getClassName()}) has no ONNX export`);
    const inputs = node.inputTensors.map((i) => names.get(i.id) ?? '');
    const out = emit(g, { layer, inputs, shapes: node.inputTensors.map((i) => i.shape) }, layer.getConfig());
    if (node.outputTensors.length !== 1) throw new Error(`layer "${layer.name}" has several outputs`);
    names.set(node.outputTensors[0]!.id, out);
  };
  model.outputs.forEach(visit);

  const outputs = model.outputs.map((t, i) => {
    const inner = names.get(t.id);
    if (inner === undefined) throw new Error(`output ${i} was not written`);
    const base = options.softmax ? 'probabilities' : 'logits';
    const name = model.outputs.length === 1 ? base : `output_${i}`;
    g.node(options.softmax ? 'Softmax' : 'Identity', [inner], options.softmax ? { axis: -1 } : {}, name);
    return valueInfo(name, ['batch', ...t.shape.slice(1).map((d) => d ?? -1)]);
  });

  return encodeModel({
    irVersion: 7,
    producerName: 'engram',
    producerVersion: options.producerVersion,
    opsetImport: [{ domain: '', version: EXPORT_OPSET }],
    graph: {
      name: model.name,
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo('input', inputDims)],
      output: outputs,
    },
    metadataProps: Object.entries(options.metadata).map(([key, value]) => ({ key, value })),
  });
}
