import * as tf from '@tensorflow/tfjs';
import type { ConstTensor, NodeProto } from './onnx-proto.js';
import { OnnxNodeError, sym, type Attributes, type SymValue, type Value } from './onnx-values.js';

/** What an operator converter may read and create while the importer walks the ONNX graph. */
export interface ImportContext {
  /** The graph's default-domain opset version. */
  readonly opset: number;
  /** Input `i` of `node`, or undefined when it is absent (an empty name or past the end). */
  input(node: NodeProto, i: number): Value | undefined;
  /** Input `i` of `node`, which must be a tensor of the model (not a constant). */
  sym(node: NodeProto, i: number): SymValue;
  /** Input `i` of `node`, which must be a constant (an initializer or folded), or undefined when absent. */
  constant(node: NodeProto, i: number): ConstTensor | undefined;
  /** A unique tfjs layer name for `node`, from its weight's initializer name when it has one. */
  name(node: NodeProto, weightInput?: number): string;
  /** Whether a later node (or the graph output) reads the tensor named `name`. */
  consumed(name: string | undefined): boolean;
  /** Applies `layer` to `inputs` and sets its weights (disposing the given tensors). */
  layer(layer: tf.layers.Layer, inputs: SymValue | SymValue[], weights?: tf.Tensor[]): tf.SymbolicTensor;
}

/** Operators that read recurrent layouts (see `SymValue.layout`) and batch-sized constants (initial states). */
const RECURRENT_READERS = new Set([
  'GRU',
  'LSTM',
  'Transpose',
  'Squeeze',
  'Gather',
  'Shape',
  'Identity',
  'Concat',
  'Slice',
]);

/** Converts one ONNX node into constants or layers of the model; returns the node's output values. */
export type Converter = (node: NodeProto, ctx: ImportContext, attrs: Attributes) => Value[];

/** Holds the values by name and builds layers for {@link ImportContext}. */
export class GraphContext implements ImportContext {
  readonly values = new Map<string, Value>();
  private readonly used = new Set<string>();
  private readonly layers: tf.layers.Layer[] = [];

  /** `headOutput`: the graph output; the dense layer giving it is named `head`, as Engram's own models. */
  constructor(
    readonly opset: number,
    private readonly headOutput: string,
    private readonly readers: ReadonlySet<string> = new Set(),
  ) {}

  consumed(name: string | undefined): boolean {
    return name !== undefined && name !== '' && this.readers.has(name);
  }

  input(node: NodeProto, i: number): Value | undefined {
    const name = node.input?.[i];
    if (name === undefined || name === '') return undefined;
    const v = this.values.get(name);
    if (!v) throw new OnnxNodeError(`reads "${name}", which no earlier node or initializer gives`);
    if (RECURRENT_READERS.has(node.opType)) return v;
    if (v.kind === 'sym' && v.layout)
      throw new OnnxNodeError(
        `input ${i} is a recurrent tensor in ${v.layout} layout; only Transpose, Squeeze and Gather of it are supported`,
      );
    if (v.kind === 'const' && v.c.dims.some(Number.isNaN))
      throw new OnnxNodeError(`input ${i} is a constant whose size depends on the batch (only a GRU/LSTM state)`);
    return v;
  }

  sym(node: NodeProto, i: number): SymValue {
    const v = this.input(node, i);
    if (v?.kind !== 'sym') throw new OnnxNodeError(`input ${i} must be a tensor computed from the model's input`);
    return v;
  }

  constant(node: NodeProto, i: number): ConstTensor | undefined {
    const v = this.input(node, i);
    if (v === undefined) return undefined;
    if (v.kind !== 'const')
      throw new OnnxNodeError(`input ${i} must be a constant (a weight or initializer), not a computed tensor`);
    return v.c;
  }

  name(node: NodeProto, weightInput?: number): string {
    if (
      (node.opType === 'Gemm' || node.opType === 'MatMul') &&
      node.output?.[0] === this.headOutput &&
      !this.used.has('head')
    ) {
      this.used.add('head');
      return 'head';
    }
    const weight = weightInput === undefined ? undefined : node.input?.[weightInput];
    const fromWeight = weight && !weight.startsWith('onnx::') ? weight.replace(/\.(weight|bias)$/, '') : undefined;
    const base = (fromWeight ?? node.name ?? node.opType).replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
    let name = base === '' ? node.opType : base;
    for (let k = 1; this.used.has(name); k++) name = `${base}_${k}`;
    this.used.add(name);
    return name;
  }

  layer(layer: tf.layers.Layer, inputs: SymValue | SymValue[], weights?: tf.Tensor[]): tf.SymbolicTensor {
    const x = Array.isArray(inputs) ? inputs.map((v) => v.t) : inputs.t;
    this.layers.push(layer);
    const out = layer.apply(x) as tf.SymbolicTensor;
    if (weights) {
      layer.setWeights(weights);
      tf.dispose(weights);
    }
    return out;
  }

  /** Frees the weights of every layer built so far (the import failed). */
  disposeLayers(): void {
    for (const l of this.layers) if (l.built) l.dispose();
  }
}

/** Applies a tfjs Permute layer (dims without the batch axis, 1-based as tfjs counts). */
export function permute(ctx: ImportContext, v: SymValue, dims: number[], node: NodeProto): SymValue {
  const layer = tf.layers.permute({ dims, name: ctx.name({ ...node, name: `${node.name ?? node.opType}_permute` }) });
  return sym(ctx.layer(layer, v), false);
}

/** The model tensor in ONNX's element order: NCHW tensors held NHWC are permuted back. */
export function channelsFirst(ctx: ImportContext, v: SymValue, node: NodeProto): SymValue {
  return v.nchw ? permute(ctx, v, [3, 1, 2], node) : v;
}

/** A plain rank-4 tensor in NCHW order turned into the NHWC-held form the spatial layers take. */
export function channelsLast(ctx: ImportContext, v: SymValue, node: NodeProto): SymValue {
  if (v.t.shape.length !== 4 || v.nchw) return v;
  return { ...permute(ctx, v, [2, 3, 1], node), nchw: true };
}
