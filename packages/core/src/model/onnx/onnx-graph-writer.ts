import { floatTensor, int64Tensor, type AttributeProto, type NodeProto, type TensorProto } from './onnx-proto.js';

/** An attribute value: numbers are INT unless listed in `floats`, arrays INTS, strings STRING. */
export type AttributeValue =
  | number
  | number[]
  | string
  | { readonly float: number }
  | { readonly floats: number[] }
  | { readonly strings: string[] };

const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

function attribute(name: string, v: AttributeValue): AttributeProto {
  if (typeof v === 'number') return { name, type: AttributeType.INT, i: v };
  if (typeof v === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: AttributeType.INTS, ints: v };
  if ('float' in v) return { name, type: AttributeType.FLOAT, f: v.float };
  if ('strings' in v)
    return { name, type: AttributeType.STRINGS, strings: v.strings.map((t) => new TextEncoder().encode(t)) };
  return { name, type: AttributeType.FLOATS, floats: v.floats };
}

/**
 * Collects the nodes and initializers of an ONNX graph as the exporter walks a tfjs model; names are
 * unique (a counter per prefix).
 */
export class OnnxGraphWriter {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly counts = new Map<string, number>();

  /** A fresh tensor or node name starting with `prefix`. */
  fresh(prefix: string): string {
    const n = this.counts.get(prefix) ?? 0;
    this.counts.set(prefix, n + 1);
    return n === 0 ? prefix : `${prefix}_${n}`;
  }

  /** Adds a node; returns its (first) output name, `out` or a fresh one. */
  node(op: string, inputs: string[], attrs: Record<string, AttributeValue> = {}, out?: string): string {
    const name = this.fresh(`${out ?? op}`);
    const output = out ?? `${name}:0`;
    this.nodes.push({
      name,
      opType: op,
      input: inputs,
      output: [output],
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return output;
  }

  /** Adds a node with several outputs, `wanted[i]` false leaving output i unnamed (absent); returns the names. */
  nodeOutputs(op: string, inputs: string[], attrs: Record<string, AttributeValue>, wanted: boolean[]): string[] {
    const name = this.fresh(op);
    const output = wanted.map((w, i) => (w ? `${name}:${i}` : ''));
    this.nodes.push({
      name,
      opType: op,
      input: inputs,
      output,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return output;
  }

  /** Adds a float32 initializer; returns its name. */
  floats(prefix: string, dims: number[], data: Float32Array): string {
    const name = this.fresh(prefix);
    this.initializers.push(floatTensor(name, dims, data));
    return name;
  }

  /** Adds an int64 initializer (shapes, pads; `dims` [] for a scalar); returns its name. */
  int64(prefix: string, data: number[], dims: number[] = [data.length]): string {
    const name = this.fresh(prefix);
    this.initializers.push(int64Tensor(name, dims, data));
    return name;
  }

  /** A scalar float constant. */
  scalar(prefix: string, value: number): string {
    const name = this.fresh(prefix);
    this.initializers.push(floatTensor(name, [], Float32Array.of(value)));
    return name;
  }

  /** NHWC → NCHW (before a spatial operator). */
  toChannelsFirst(x: string): string {
    return this.node('Transpose', [x], { perm: [0, 3, 1, 2] });
  }

  /** NCHW → NHWC (after a spatial operator). */
  toChannelsLast(x: string): string {
    return this.node('Transpose', [x], { perm: [0, 2, 3, 1] });
  }
}

/** Emits an activation function by its tfjs identifier on `x`; returns the result's name. */
export function emitActivation(g: OnnxGraphWriter, fn: string, x: string, where: string): string {
  switch (fn) {
    case 'linear':
      return x;
    case 'relu':
      return g.node('Relu', [x]);
    case 'sigmoid':
      return g.node('Sigmoid', [x]);
    case 'tanh':
      return g.node('Tanh', [x]);
    case 'softmax':
      return g.node('Softmax', [x], { axis: -1 });
    case 'elu':
      return g.node('Elu', [x], { alpha: { float: 1 } });
    case 'selu':
      return g.node('Selu', [x]);
    case 'softplus':
      return g.node('Softplus', [x]);
    case 'softsign':
      return g.node('Softsign', [x]);
    case 'relu6':
      return g.node('Clip', [x, g.scalar('zero', 0), g.scalar('six', 6)]);
    case 'swish':
      return g.node('Mul', [x, g.node('Sigmoid', [x])]);
    case 'mish':
      return g.node('Mul', [x, g.node('Tanh', [g.node('Softplus', [x])])]);
    case 'gelu':
      return emitGelu(g, x);
    default:
      throw new Error(`${where}: activation "${fn}" has no ONNX export`);
  }
}

/** GELU as `x·½(1 + erf(x/√2))` (Erf is in every opset Engram writes). */
export function emitGelu(g: OnnxGraphWriter, x: string): string {
  const erf = g.node('Erf', [g.node('Div', [x, g.scalar('sqrt2', Math.SQRT2)])]);
  const inner = g.node('Mul', [x, g.node('Add', [erf, g.scalar('one', 1)])]);
  return g.node('Mul', [inner, g.scalar('half', 0.5)]);
}
