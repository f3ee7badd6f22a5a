import * as tf from '@tensorflow/tfjs';
import { GraphContext, type Converter } from './onnx-context.js';
import { fusePatterns } from './onnx-fuse.js';
import './onnx-layers.js';
import { LAYER_OPS } from './onnx-ops-layers.js';
import { RECURRENT_OPS } from './onnx-ops-recurrent.js';
import { STRUCTURE_OPS } from './onnx-ops-structure.js';
import { decodeModel, tensorValues, type ConstTensor, type ModelProto, type NodeProto } from './onnx-proto.js';
import { Attributes, OnnxNodeError, sym } from './onnx-values.js';

/** Every operator the importer converts (besides the Erf pattern of GELU it fuses). */
export const SUPPORTED_ONNX_OPS: Readonly<Record<string, Converter>> = {
  ...LAYER_OPS,
  ...STRUCTURE_OPS,
  ...RECURRENT_OPS,
};

/** Operators refused with a reason beyond "not supported". */
const REFUSED: Readonly<Record<string, string>> = {
  RNN: 'the plain (Elman) RNN is not imported: torch models use GRU or LSTM',
};

/** Opsets the importer is written for (`torch.onnx.export` of torch 1.13–2.x writes 13–18). */
export const ONNX_OPSETS = { min: 11, max: 18 } as const;

/** An ONNX model Engram cannot import: the message names the node, its op type and what is supported. */
export class OnnxImportError extends Error {}

/** The model's input: name, ONNX dims (batch first) and the channels-last shape the tfjs model takes. */
export interface OnnxInput {
  readonly name: string;
  readonly onnxShape: number[];
  readonly shape: number[];
  /** The input holds integer token ids (an embedding reads them); the tfjs model takes them as floats. */
  readonly ids: boolean;
}

function graphInput(model: ModelProto): OnnxInput {
  const g = model.graph ?? {};
  const init = new Set((g.initializer ?? []).map((t) => t.name));
  const inputs = (g.input ?? []).filter((i) => !init.has(i.name));
  if (inputs.length !== 1)
    throw new OnnxImportError(`the graph has ${inputs.length} inputs; Engram imports models with one input`);
  const input = inputs[0]!;
  const tt = input.type?.tensorType;
  const ids = tt?.elemType === 6 || tt?.elemType === 7;
  if (tt?.elemType !== undefined && tt.elemType !== 1 && !ids)
    throw new OnnxImportError(
      `input "${input.name}" has element type ${tt.elemType}; Engram imports float inputs or int32/int64 token ids`,
    );
  const dims = (tt?.shape?.dim ?? []).map((d) => (d.dimValue !== undefined ? Number(d.dimValue) : -1));
  if (dims.length < 2 || dims.slice(1).some((d) => !(d > 0)))
    throw new OnnxImportError(
      `input "${input.name}" has shape [${dims.join(', ')}]; every axis after the batch must have a fixed size`,
    );
  const rest = dims.slice(1);
  const shape = rest.length === 3 ? [rest[1]!, rest[2]!, rest[0]!] : rest;
  return { name: input.name, onnxShape: dims, shape: ids ? rest : shape, ids };
}

function opsetOf(model: ModelProto): number {
  const entry = (model.opsetImport ?? []).find((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx');
  const v = Number(entry?.version ?? 0);
  if (v < ONNX_OPSETS.min || v > ONNX_OPSETS.max)
    throw new OnnxImportError(`the model uses opset ${v}; Engram imports opsets ${ONNX_OPSETS.min}–${ONNX_OPSETS.max}`);
  return v;
}

/** Constants known before the walk: initializers and `Constant` nodes (for pattern fusion). */
function knownConstants(model: ModelProto): Map<string, ConstTensor> {
  const out = new Map<string, ConstTensor>();
  for (const t of model.graph?.initializer ?? [])
    out.set(t.name ?? '', tensorValues(t, `initializer "${t.name ?? ''}"`));
  for (const n of model.graph?.node ?? []) {
    if (n.opType !== 'Constant') continue;
    try {
      out.set(n.output?.[0] ?? '', new Attributes(n).constantValue('constant'));
    } catch {
      // converted (and reported) when the walk reaches it
    }
  }
  return out;
}

function unsupported(node: NodeProto, why?: string): OnnxImportError {
  const list = Object.keys(SUPPORTED_ONNX_OPS).sort().join(', ');
  const reason = why ? `: ${why}` : '';
  return new OnnxImportError(
    `node "${node.name ?? '?'}" (${node.opType}) is not supported${reason}. Supported operators: ${list} (and the Erf pattern of GELU)`,
  );
}

/**
 * Builds a tfjs functional model from the bytes of an `.onnx` file (as `torch.onnx.export` writes it).
 * Image models (NCHW in ONNX) become channels-last models that take `[H, W, C]` samples; weights are
 * transposed. A trailing Softmax is dropped (Engram's models output logits); the dense layer giving
 * the output is named `head`. Throws {@link OnnxImportError} for anything it cannot convert.
 */
export function importOnnx(bytes: Uint8Array): { model: tf.LayersModel; input: OnnxInput } {
  let proto: ModelProto;
  try {
    proto = decodeModel(bytes);
  } catch (e) {
    throw new OnnxImportError((e as Error).message);
  }
  const refused = (proto.graph?.node ?? []).find((n) => REFUSED[n.opType] !== undefined);
  if (refused) throw unsupported(refused, REFUSED[refused.opType]);
  for (const node of proto.graph?.node ?? []) {
    if ((node.domain ?? '') !== '' && node.domain !== 'ai.onnx')
      throw unsupported(node, `operators of domain "${node.domain}" are not imported`);
    if (!SUPPORTED_ONNX_OPS[node.opType] && node.opType !== 'Erf') throw unsupported(node, REFUSED[node.opType]);
  }
  const opset = opsetOf(proto);
  const input = graphInput(proto);
  const outputs = (proto.graph?.output ?? []).map((o) => o.name);
  if (outputs.length !== 1)
    throw new OnnxImportError(`the graph has ${outputs.length} outputs; Engram imports models with one (the logits)`);
  const consts = knownConstants(proto);
  let nodes = fusePatterns(proto.graph?.node ?? [], (n) => consts.get(n), new Set(outputs));
  let outputName = outputs[0]!;
  const last = nodes.find((n) => n.output?.[0] === outputName);
  if (last && (last.opType === 'Softmax' || last.opType === 'LogSoftmax')) {
    nodes = nodes.filter((n) => n !== last);
    outputName = last.input?.[0] ?? outputName;
  }
  const readers = new Set([...nodes.flatMap((n) => n.input ?? []), outputName]);
  const ctx = new GraphContext(opset, outputName, readers);
  for (const [name, c] of consts)
    if (!nodes.some((n) => n.opType === 'Constant' && n.output?.[0] === name))
      ctx.values.set(name, { kind: 'const', c });
  const x = tf.input({ shape: input.shape, name: input.name.replace(/[^A-Za-z0-9_]+/g, '_') || 'input' });
  ctx.values.set(input.name, sym(x, !input.ids && input.shape.length === 3));
  try {
    for (const node of nodes) {
      const convert = SUPPORTED_ONNX_OPS[node.opType];
      if (!convert) throw unsupported(node, node.opType === 'Erf' ? 'Erf is imported only as part of GELU' : undefined);
      let values;
      try {
        values = convert(node, ctx, new Attributes(node));
      } catch (e) {
        if (!(e instanceof OnnxNodeError)) throw e;
        throw new OnnxImportError(`node "${node.name ?? '?'}" (${node.opType}): ${e.message}`);
      }
      values.forEach((v, i) => {
        const name = node.output?.[i];
        if (name) ctx.values.set(name, v);
      });
    }
    const out = ctx.values.get(outputName);
    if (out?.kind !== 'sym' || out.t.shape.length !== 2 || out.layout)
      throw new OnnxImportError(`the output "${outputName}" must be logits of shape [batch, classes]`);
    return { model: tf.model({ inputs: x, outputs: out.t, name: 'onnx_import' }), input };
  } catch (e) {
    ctx.disposeLayers();
    throw e;
  }
}
