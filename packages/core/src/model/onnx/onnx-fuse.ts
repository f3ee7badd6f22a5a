import type { ConstTensor, NodeProto } from './onnx-proto.js';
import { floats, size } from './onnx-values.js';

/** Looks up the constant a tensor name holds (an initializer or a `Constant` node's value), if any. */
export type ConstantLookup = (name: string) => ConstTensor | undefined;

function scalar(c: ConstTensor | undefined): number | undefined {
  return c && size(c.dims) === 1 ? floats(c)[0] : undefined;
}

const near = (v: number | undefined, target: number): boolean => v !== undefined && Math.abs(v - target) < 1e-4;

/**
 * Rewrites the node patterns exporters emit for one layer into one node the importer converts:
 * - `x·½(1 + erf(x/√2))` — Div (or Mul by 1/√2), Erf, Add 1, Mul x, Mul ½ — as torch writes `nn.GELU`
 *   before opset 20 → one `Gelu` node;
 * - `MatMul(x, W)` followed by `Add(·, b)` of a constant bias (torch's `nn.Linear` on 3-D input, or
 *   any Linear some exporters write) → `MatMul(x, W, b)`, one dense layer with a bias.
 * A pattern whose intermediate tensors are read elsewhere is left alone.
 */
export function fusePatterns(
  nodes: NodeProto[],
  constant: ConstantLookup,
  graphOutputs: ReadonlySet<string>,
): NodeProto[] {
  const readers = new Map<string, NodeProto[]>();
  for (const n of nodes) for (const i of n.input ?? []) readers.set(i, [...(readers.get(i) ?? []), n]);
  const producer = new Map<string, NodeProto>();
  for (const n of nodes) for (const o of n.output ?? []) producer.set(o, n);
  /** The single node reading `name`, when nothing else (nor the graph output) reads it. */
  const only = (name: string | undefined): NodeProto | undefined => {
    if (name === undefined || graphOutputs.has(name)) return undefined;
    const r = readers.get(name);
    return r?.length === 1 ? r[0] : undefined;
  };
  /** The other operand of a binary node, given one. */
  const other = (n: NodeProto, name: string | undefined): string | undefined =>
    n.input?.[0] === name ? n.input?.[1] : n.input?.[1] === name ? n.input?.[0] : undefined;
  const removed = new Set<NodeProto>();
  const replaced = new Map<NodeProto, NodeProto>();

  for (const erf of nodes) {
    if (erf.opType !== 'Erf') continue;
    const scale = producer.get(erf.input?.[0] ?? '');
    if (!scale || only(scale.output?.[0]) !== erf) continue;
    const x = scale.input?.[0];
    const c = scalar(constant(scale.input?.[1] ?? ''));
    const isScale =
      (scale.opType === 'Div' && near(c, Math.SQRT2)) || (scale.opType === 'Mul' && near(c, Math.SQRT1_2));
    const add = only(erf.output?.[0]);
    const mulX = only(add?.output?.[0]);
    const half = only(mulX?.output?.[0]);
    if (!isScale || x === undefined || add?.opType !== 'Add' || mulX?.opType !== 'Mul' || half?.opType !== 'Mul')
      continue;
    if (!near(scalar(constant(other(add, erf.output?.[0]) ?? '')), 1)) continue;
    if (other(mulX, add.output?.[0]) !== x) continue;
    if (!near(scalar(constant(other(half, mulX.output?.[0]) ?? '')), 0.5)) continue;
    for (const n of [scale, erf, add, mulX]) removed.add(n);
    replaced.set(half, {
      name: (erf.name ?? 'Erf').replace(/Erf$/, 'Gelu'),
      opType: 'Gelu',
      input: [x],
      output: [half.output?.[0] ?? ''],
    });
  }

  for (const mm of nodes) {
    if (mm.opType !== 'MatMul' || removed.has(mm)) continue;
    const w = constant(mm.input?.[1] ?? '');
    const add = only(mm.output?.[0]);
    if (w?.dims.length !== 2 || add?.opType !== 'Add') continue;
    const biasName = other(add, mm.output?.[0]);
    const bias = constant(biasName ?? '');
    if (!bias || size(bias.dims) !== w.dims[1] || bias.dims.length > 1) continue;
    removed.add(mm);
    replaced.set(add, {
      ...mm,
      input: [mm.input?.[0] ?? '', mm.input?.[1] ?? '', biasName ?? ''],
      output: [add.output?.[0] ?? ''],
    });
  }

  return nodes.filter((n) => !removed.has(n)).map((n) => replaced.get(n) ?? n);
}
