import * as tf from '@tensorflow/tfjs';
import { writesAreCopied, type EngramModel } from '@engram/core';
import { logitMapperOf, type LogitMapper } from '../common/head-logits.js';

/** How per-sample gradients are reduced before they are summed: squared (Fisher) or absolute (MAS). */
export type PerSampleReduce = 'square' | 'abs';

/** Geometry of a Conv2D layer the batched pass supports (channels last, no dilation). */
interface ConvGeometry {
  readonly kernel: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly padding: 'same' | 'valid';
}

/**
 * One layer of a {@link BatchedPlan}: weighted (Dense on rank-2 input, Conv2D) or applied as is, with the
 * ids of the symbolic tensors it reads and writes (a merge, `add`/`concatenate`, reads several).
 */
export interface PlannedLayer {
  readonly layer: tf.layers.Layer;
  readonly kind: 'dense' | 'conv' | 'plain';
  /** Its activation as a separate layer, so the pre-activation `z` can take a probe (weighted layers). */
  readonly activation?: tf.layers.Layer;
  readonly conv?: ConvGeometry;
  readonly inputs: readonly number[];
  readonly output: number;
}

/**
 * A network the batched per-sample pass can take: a stack or a graph (one input, one output) whose
 * weighted layers are all Dense or Conv2D, each used once; its layers in an order where every layer
 * follows the layers it reads.
 */
export interface BatchedPlan {
  readonly layers: readonly PlannedLayer[];
  readonly mapper: LogitMapper;
  /** Id of the network's input tensor. */
  readonly input: number;
  /** Id of the network's output tensor. */
  readonly output: number;
}

const pair = (v: unknown): [number, number] =>
  Array.isArray(v) ? [Number(v[0]), Number(v[1] ?? v[0])] : [Number(v), Number(v)];

function convGeometry(layer: tf.layers.Layer): ConvGeometry | undefined {
  const c = layer.getConfig() as {
    kernelSize?: unknown;
    strides?: unknown;
    padding?: string;
    dataFormat?: string;
    dilationRate?: unknown;
  };
  if ((c.dataFormat ?? 'channelsLast') !== 'channelsLast') return undefined;
  if (pair(c.dilationRate ?? 1).some((d) => d !== 1)) return undefined;
  if (c.padding !== 'same' && c.padding !== 'valid') return undefined;
  return { kernel: pair(c.kernelSize), strides: pair(c.strides ?? 1), padding: c.padding };
}

/** The layer calls leading to `output`, each after the calls it reads (depth-first from the output). */
function callsTo(
  output: tf.SymbolicTensor,
): { layer: tf.layers.Layer; inputs: tf.SymbolicTensor[]; output: tf.SymbolicTensor }[] {
  const calls: { layer: tf.layers.Layer; inputs: tf.SymbolicTensor[]; output: tf.SymbolicTensor }[] = [];
  const seen = new Set<number>();
  const visit = (t: tf.SymbolicTensor): void => {
    if (seen.has(t.id) || t.sourceLayer.getClassName() === 'InputLayer') return;
    seen.add(t.id);
    t.inputs.forEach(visit);
    calls.push({ layer: t.sourceLayer, inputs: t.inputs, output: t });
  };
  visit(output);
  return calls;
}

/** A planned weighted layer, or undefined when the batched pass cannot take it. */
function weightedLayer(
  layer: tf.layers.Layer,
  input: tf.SymbolicTensor,
): Omit<PlannedLayer, 'inputs' | 'output'> | undefined {
  const activation = tf.layers.activation({
    activation: ((layer.getConfig() as { activation?: string }).activation ?? 'linear') as 'linear',
  });
  if (layer.getClassName() === 'Dense')
    return input.shape.length === 2 ? { layer, kind: 'dense', activation } : undefined;
  if (layer.getClassName() !== 'Conv2D') return undefined;
  const conv = convGeometry(layer);
  return conv ? { layer, kind: 'conv', activation, conv } : undefined;
}

/**
 * The plan of `model` when it is a stack or a graph with one input and one output, every layer with
 * weights is a Dense layer on rank-2 input or a channels-last, undilated Conv2D, used once, all of
 * whose weights are trainable; otherwise undefined (the caller then loops over single samples).
 */
export function batchedPlan(model: EngramModel): BatchedPlan | undefined {
  const mapper = logitMapperOf(model);
  const net = model.network;
  const [input] = net.inputs;
  const [output] = net.outputs;
  if (!mapper || !input || !output || net.inputs.length !== 1 || net.outputs.length !== 1) return undefined;
  const trainable = new Set(model.trainableVariables().map((v) => v.name));
  const layers: PlannedLayer[] = [];
  const weighted = new Set<tf.layers.Layer>();
  for (const call of callsTo(output)) {
    const wiring = { inputs: call.inputs.map((t) => t.id), output: call.output.id };
    const { layer } = call;
    if (layer.weights.length === 0) {
      layers.push({ layer, kind: 'plain', ...wiring });
      continue;
    }
    if (weighted.has(layer) || call.inputs.length !== 1) return undefined;
    weighted.add(layer);
    if (!layer.weights.every((w) => trainable.has((w.read() as tf.Variable).name))) return undefined;
    const planned = weightedLayer(layer, call.inputs[0] as tf.SymbolicTensor);
    if (!planned) return undefined;
    layers.push({ ...planned, ...wiring });
  }
  return { layers, mapper, input: input.id, output: output.id };
}

/** The host array patches are gathered in, refilled call after call where the backend copies it on creation. */
let scratch = new Float32Array(0);

/**
 * The patches a convolution multiplies with its kernel, `[n, outH·outW, kh·kw·cin]`, in the kernel's
 * `[kh, kw, cin]` order (zeros where the window covers padding; TensorFlow's `same` puts the extra
 * row or column at the end). Gathered on the host in one pass into a reused array when the backend
 * copies it ({@link writesAreCopied}): a strided slice per kernel offset and a concatenation, or a
 * `gather`, cost several times more on the wasm backend, and so do fresh pages for a new array.
 */
export function convPatches(input: tf.Tensor4D, g: ConvGeometry): tf.Tensor3D {
  return patchesOf(input.dataSync() as Float32Array, input.shape, 0, input.shape[0], g);
}

/** {@link convPatches} of samples `[from, from + count)` of a host copy `src` of a `[n, h, w, c]` input. */
function patchesOf(
  src: Float32Array,
  shape: readonly [number, number, number, number],
  from: number,
  count: number,
  g: ConvGeometry,
): tf.Tensor3D {
  const [, h, w, c] = shape;
  const [kh, kw] = g.kernel;
  const [sh, sw] = g.strides;
  let outH = Math.floor((h - kh) / sh) + 1;
  let outW = Math.floor((w - kw) / sw) + 1;
  let top = 0;
  let left = 0;
  if (g.padding === 'same') {
    outH = Math.ceil(h / sh);
    outW = Math.ceil(w / sw);
    top = Math.floor(Math.max((outH - 1) * sh + kh - h, 0) / 2);
    left = Math.floor(Math.max((outW - 1) * sw + kw - w, 0) / 2);
  }
  const k = kh * kw * c;
  const size = count * outH * outW * k;
  const reuse = writesAreCopied();
  if (reuse && scratch.length < size) scratch = new Float32Array(size);
  const out = reuse ? scratch.subarray(0, size) : new Float32Array(size);
  let o = 0;
  for (let b = from; b < from + count; b++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        for (let i = 0; i < kh; i++) {
          const iy = oy * sh + i - top;
          for (let j = 0; j < kw; j++, o += c) {
            const ix = ox * sw + j - left;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
              if (reuse) out.fill(0, o, o + c);
              continue;
            }
            const at = ((b * h + iy) * w + ix) * c;
            for (let q = 0; q < c; q++) out[o + q] = src[at + q] as number;
          }
        }
      }
    }
  }
  return tf.tensor3d(out, [count, outH * outW, k]);
}

/**
 * Floats the per-sample pieces of one convolution (its patches, its per-sample kernel gradients) may hold at once
 * (measured best of 2–16 M).
 */
const PIECE_FLOATS = 8 * 1024 * 1024;

/**
 * `Σₙ op(patchesₙᵀ δₙ)` for one convolution's kernel, in pieces of samples sized so that neither the
 * patches nor the per-sample gradients exceed {@link PIECE_FLOATS}: large intermediates make the
 * backend grow and touch fresh memory, which costs more than the arithmetic.
 */
function convKernelSum(
  a: tf.Tensor4D,
  d: tf.Tensor4D,
  g: ConvGeometry,
  shape: number[],
  op: (t: tf.Tensor) => tf.Tensor,
): tf.Tensor {
  const m = a.shape[0];
  const positions = d.shape[1] * d.shape[2];
  const cout = d.shape[3];
  const k = g.kernel[0] * g.kernel[1] * a.shape[3];
  const piece = Math.max(1, Math.floor(PIECE_FLOATS / Math.max(positions * k, k * cout)));
  // Pieces are cut on the host: one read of each tensor (the wasm backend's slice reads the whole input every time).
  const input = a.dataSync() as Float32Array;
  const delta = d.dataSync() as Float32Array;
  let sum: tf.Tensor = tf.zeros([k, cout]);
  for (let s0 = 0; s0 < m; s0 += piece) {
    const size = Math.min(piece, m - s0);
    const next = tf.tidy(() => {
      const patches = patchesOf(input, a.shape, s0, size, g);
      const deltas = tf.tensor3d(delta.subarray(s0 * positions * cout, (s0 + size) * positions * cout), [
        size,
        positions,
        cout,
      ]);
      return tf.add(sum, tf.sum(op(tf.matMul(patches, deltas, true, false)), 0));
    });
    sum.dispose();
    sum = next;
  }
  return tf.reshape(sum, shape);
}

/**
 * Sums over the samples of one chunk of `reduce(∂ℓₙ/∂θ)` for every weight of a planned network, by
 * one forward and one backward pass. The backward pass gives `δ = ∂(Σℓ)/∂z` at each weighted
 * layer's pre-activation through zero probes added to `z`; sample n's gradient is then `aₙᵀδₙ` for a
 * Dense kernel (so `Σₙ aₙ²ᵀδₙ²` for squares: `(a²)ᵀ(δ²)`), `patchesₙᵀδₙ` for a Conv2D kernel (a
 * batched matmul, reduced per sample), and `δₙ` summed over positions for a bias. `logitsToLoss`
 * maps the network's output to the summed objective. Must run inside `tf.tidy`.
 */
export function chunkSums(
  plan: BatchedPlan,
  x: tf.Tensor,
  logitsToLoss: (logits: tf.Tensor) => tf.Scalar,
  reduce: PerSampleReduce,
): Map<string, tf.Tensor> {
  const m = x.shape[0];
  const weighted = plan.layers.filter((p) => p.kind !== 'plain');
  const probes = weighted.map((p) =>
    tf.zeros([m, ...(p.layer.outputShape as Array<number | null>).slice(1).map((d) => d ?? 1)]),
  );
  const acts: tf.Tensor[] = [];
  const f = (...ps: tf.Tensor[]): tf.Scalar => {
    const values = new Map<number, tf.Tensor>([[plan.input, x]]);
    const read = (id: number): tf.Tensor => {
      const t = values.get(id);
      if (!t) throw new Error(`batched per-sample pass: tensor ${id} is read before it is computed`);
      return t;
    };
    let k = 0;
    for (const p of plan.layers) {
      if (p.kind === 'plain') {
        const ins = p.inputs.map(read);
        values.set(
          p.output,
          p.layer.apply(ins.length === 1 ? (ins[0] as tf.Tensor) : ins, { training: false }) as tf.Tensor,
        );
        continue;
      }
      const h = read(p.inputs[0] as number);
      acts.push(tf.keep(h));
      const kernel = p.layer.weights.find((w) => w.shape.length >= 2)?.read() as tf.Tensor;
      const bias = p.layer.weights.find((w) => w.shape.length === 1)?.read();
      let z =
        p.kind === 'dense'
          ? tf.matMul(h, kernel)
          : tf.conv2d(
              h as tf.Tensor4D,
              kernel as tf.Tensor4D,
              p.conv?.strides as [number, number],
              p.conv?.padding ?? 'valid',
            );
      z = tf.add(z, ps[k++] as tf.Tensor);
      if (bias) z = tf.add(z, bias);
      values.set(p.output, (p.activation as tf.layers.Layer).apply(z) as tf.Tensor);
    }
    return logitsToLoss(read(plan.output));
  };
  const deltas = tf.grads(f)(probes);
  const op = reduce === 'square' ? tf.square : tf.abs;
  const sums = new Map<string, tf.Tensor>();
  weighted.forEach((p, i) => {
    const a = acts[i] as tf.Tensor;
    const d = deltas[i] as tf.Tensor;
    const cout = d.shape[d.shape.length - 1] as number;
    for (const w of p.layer.weights) {
      const name = (w.read() as tf.Variable).name;
      let sum: tf.Tensor;
      if (w.shape.length === 1) sum = tf.sum(op(tf.sum(tf.reshape(d, [m, -1, cout]), 1)), 0);
      else if (p.kind === 'dense') sum = tf.matMul(op(a), op(d), true, false);
      else sum = convKernelSum(a as tf.Tensor4D, d as tf.Tensor4D, p.conv as ConvGeometry, w.shape as number[], op);
      sums.set(name, sum);
    }
  });
  tf.dispose(acts);
  return sums;
}

/**
 * Samples per batched pass: `chunk` for Dense networks; at most 64 when the network convolves, whose
 * activations per sample are larger (64 was the fastest of 16–256 for both bench CNNs).
 */
export function passSize(plan: BatchedPlan, chunk: number): number {
  return plan.layers.some((p) => p.kind === 'conv') ? Math.min(chunk, 64) : chunk;
}
