import * as tf from '@tensorflow/tfjs';
import type { EngramModel } from '@engram/core';
import { logitMapperOf, type LogitMapper } from '../common/head-logits.js';

// Which networks the batched per-sample pass (batched-per-sample.ts) takes, and in what order it
// walks their layers.

/** Geometry of a Conv2D layer the batched pass supports (channels last, no dilation). */
export interface ConvGeometry {
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

/**
 * Samples per batched pass: `chunk` for Dense networks; at most 64 when the network convolves, whose
 * activations per sample are larger (64 was the fastest of 16–256 for both bench CNNs).
 */
export function passSize(plan: BatchedPlan, chunk: number): number {
  return plan.layers.some((p) => p.kind === 'conv') ? Math.min(chunk, 64) : chunk;
}
