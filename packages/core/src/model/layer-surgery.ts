import * as tf from '@tensorflow/tfjs';
import { LayersEngramModel, type EngramModel } from '../plugin-api/engram-model.js';
import { recordLineage, type VariableOrigin } from './surgery-lineage.js';

/** A tfjs Layers layer. */
export type Layer = tf.layers.Layer;

/** Float32 values of one weight, kept on the host while a model is being rebuilt. */
export interface HostWeight {
  readonly shape: number[];
  readonly data: Float32Array;
}

/** One layer of a chain-shaped network with the symbolic tensor it produces there. */
export interface ChainLink {
  readonly layer: Layer;
  readonly output: tf.SymbolicTensor;
}

/**
 * One layer of a model under surgery: either an existing layer kept as it is (`keep`; its variables,
 * their names and so their optimizer slots survive), or a layer built anew by `make` whose weights are
 * then set to `weights` (in `getWeights()` order; absent = the layer's own seeded initialisers).
 */
export type PlannedLayer = { readonly keep: Layer } | NewLayer;

/**
 * How a rebuilt layer's weight relates to its origin's (see {@link VariableOrigin}): `weights` maps a
 * stored copy of the old weight to the new one as the surgery did (without noise), `importance` maps
 * a stored importance (new parts 0).
 */
export interface WeightMap {
  readonly weights: (old: HostWeight) => HostWeight;
  readonly importance: (old: HostWeight) => HostWeight;
}

/** A planned layer built anew (see {@link PlannedLayer}). */
export interface NewLayer {
  readonly make: () => Layer;
  weights?: HostWeight[];
  readonly name: string;
  readonly className: string;
  readonly activation: string | undefined;
  /** The layer it replaces, weight for weight (a widened or re-initialised layer); absent for an inserted one. */
  readonly origin?: Layer;
  /** Per weight (in `getWeights()` order), how stored per-variable tensors follow it; absent = unchanged. */
  maps?: Array<WeightMap | undefined>;
}

/** `second` after `first`. */
function thenMap(first: WeightMap | undefined, second: WeightMap): WeightMap {
  if (!first) return second;
  return {
    weights: (h) => second.weights(first.weights(h)),
    importance: (h) => second.importance(first.importance(h)),
  };
}

/** Adds `map` after whatever maps weight `k` of `entry` already has. */
export function addMap(entry: NewLayer, k: number, map: WeightMap): void {
  const maps = entry.maps ?? [];
  maps[k] = thenMap(maps[k], map);
  entry.maps = maps;
}

/** A planned copy of an existing layer with configuration `overrides` and edited `weights`. */
export interface EditedLayer extends NewLayer {
  readonly source: Layer;
  readonly overrides: tf.serialization.ConfigDict;
  weights: HostWeight[];
}

/**
 * The layers of `model`'s network from input to output (input layer excluded), with their outputs in
 * this network. Surgery supports chains only — one input, one output, every layer fed by the previous
 * one: the shape of `model.layers` builders, `tf.sequential` and Keras Sequential models. Layers shared
 * with an earlier model (after `grow-head`) are followed through this network's own nodes.
 */
export function chainOf(model: EngramModel, kind: string): ChainLink[] {
  if (!(model instanceof LayersEngramModel)) {
    throw new Error(
      `${kind} needs a plain layers model; list it before wrapping adjustments and strategies (multi-head, hedge)`,
    );
  }
  const net = model.network;
  if (net.inputs.length !== 1 || net.outputs.length !== 1)
    throw new Error(
      `${kind} supports models with one input and one output; this one has ${net.inputs.length} and ${net.outputs.length}`,
    );
  const links: ChainLink[] = [];
  let t = net.outputs[0];
  while (t && t.sourceLayer.getClassName() !== 'InputLayer') {
    links.unshift({ layer: t.sourceLayer, output: t });
    if (t.inputs.length !== 1)
      throw new Error(
        `${kind} supports chain models only; layer "${t.sourceLayer.name}" takes ${t.inputs.length} inputs`,
      );
    t = t.inputs[0];
  }
  return links;
}

/** Index of the layer named `name` in `chain`, or a one-line error listing the names. */
export function findLayer(chain: readonly ChainLink[], name: string, kind: string): number {
  const i = chain.findIndex((l) => l.layer.name === name);
  if (i < 0)
    throw new Error(`${kind}: no layer named "${name}" (layers: ${chain.map((l) => l.layer.name).join(', ')})`);
  return i;
}

/** The plan that keeps every layer of `chain`. */
export function planOf(chain: readonly ChainLink[]): PlannedLayer[] {
  return chain.map((l) => ({ keep: l.layer }));
}

/** Name of a planned layer. */
export function plannedName(p: PlannedLayer): string {
  return 'keep' in p ? p.keep.name : p.name;
}

/** tfjs class name of a planned layer (`Dense`, `Conv2D`, …). */
export function plannedClass(p: PlannedLayer): string {
  return 'keep' in p ? p.keep.getClassName() : p.className;
}

/** Host copies of a layer's weights (all of them, trainable first as `getWeights()` orders them). */
export function hostWeights(layer: Layer): HostWeight[] {
  return layer
    .getWeights()
    .map((w) => ({ shape: [...w.shape], data: Float32Array.from(w.dataSync() as Float32Array) }));
}

/**
 * Entry `i` of `plan` as an editable copy: a kept layer is turned into a rebuilt copy of itself (same
 * name and configuration, weights copied to the host) whose `weights` and `overrides` the caller edits.
 */
export function editLayer(plan: PlannedLayer[], i: number): EditedLayer {
  const p = plan[i];
  if (!p) throw new Error(`layer surgery: no layer at ${i}`);
  if ('source' in p) return p as EditedLayer;
  if (!('keep' in p)) throw new Error(`layer surgery: "${p.name}" is new; it cannot be edited in the same step`);
  const source = p.keep;
  const overrides: tf.serialization.ConfigDict = {};
  const entry: EditedLayer = {
    source,
    overrides,
    weights: hostWeights(source),
    name: source.name,
    className: source.getClassName(),
    activation: activationOf(source),
    origin: source,
    make: () => cloneLayer(source, overrides),
  };
  plan[i] = entry;
  return entry;
}

/** The serialisable configuration of `layer` (camel-case keys, as tfjs' `getConfig()` returns them). */
export function configOf(layer: Layer): tf.serialization.ConfigDict {
  return layer.getConfig();
}

/**
 * A new, unbuilt layer of `layer`'s class and configuration (same name) with `overrides` applied.
 * Its variables get new unique names, so optimizer slots of the old ones are not carried over.
 */
export function cloneLayer(layer: Layer, overrides: tf.serialization.ConfigDict): Layer {
  const config: tf.serialization.ConfigDict = { ...layer.getConfig(), ...overrides };
  delete config['batchInputShape'];
  delete config['inputShape'];
  const Ctor = layer.constructor as new (config: tf.serialization.ConfigDict) => Layer;
  return new Ctor(config);
}

/**
 * Builds the planned chain on `model`'s input and returns it as a new model. Kept layers are reused:
 * applied again on the new chain (tfjs then counts one more reference per layer) and released once
 * for `model`, so the returned model owns them and its `dispose()` frees them. `model` is replaced:
 * dispose what it alone used with {@link disposeReplacedModel} (as the adjust stage does), never the
 * whole of it.
 */
export function buildPlan(model: EngramModel, plan: readonly PlannedLayer[], experience: number): LayersEngramModel {
  const net = model.network;
  const input = net.inputs[0];
  if (!input) throw new Error('layer surgery: the model has no input');
  const previous = new Map(model.trainableVariables().map((v, i) => [v.name, i]));
  let t: tf.SymbolicTensor = input;
  const made: Array<{ layer: Layer; entry: NewLayer }> = [];
  for (const p of plan) {
    const layer = 'keep' in p ? p.keep : p.make();
    t = layer.apply(t) as tf.SymbolicTensor;
    if ('keep' in p)
      layer.dispose(); // releases the replaced model's reference; the new one holds it now
    else made.push({ layer, entry: p });
  }
  const network = tf.model({ inputs: net.inputs, outputs: t });
  const derived = new Map<string, VariableOrigin>();
  for (const { layer, entry } of made) {
    if (entry.weights) {
      const tensors = entry.weights.map((w) => tf.tensor(w.data, w.shape, 'float32'));
      layer.setWeights(tensors);
      tf.dispose(tensors);
    }
    layer.trainableWeights.forEach((w, k) => derived.set((w.read() as tf.Variable).name, originOf(entry, k, previous)));
  }
  const result = new LayersEngramModel(network);
  const origins = result
    .trainableVariables()
    .map((v): VariableOrigin => derived.get(v.name) ?? { from: previous.get(v.name) });
  recordLineage(result, model, experience, origins);
  return result;
}

const toHost = (t: tf.Tensor): HostWeight => ({
  shape: [...t.shape],
  data: Float32Array.from(t.dataSync() as Float32Array),
});
const toTensor = (h: HostWeight): tf.Tensor => tf.tensor(h.data, h.shape, 'float32');

/** The {@link VariableOrigin} of weight `k` of a rebuilt or inserted layer. */
function originOf(entry: NewLayer, k: number, previous: ReadonlyMap<string, number>): VariableOrigin {
  const source = entry.origin?.trainableWeights[k];
  const from = source ? previous.get((source.read() as tf.Variable).name) : undefined;
  if (from === undefined) {
    const initial = entry.weights?.[k];
    return { from: undefined, ...(initial ? { initial: () => toTensor(initial) } : {}) };
  }
  const map = entry.maps?.[k];
  if (!map) return { from };
  return {
    from,
    weights: (old) => toTensor(map.weights(toHost(old))),
    importance: (old) => toTensor(map.importance(toHost(old))),
  };
}

/** Activation name of a layer's configuration, or undefined for layers without one. */
export function activationOf(layer: Layer): string | undefined {
  const a = configOf(layer)['activation'];
  return typeof a === 'string' ? a : undefined;
}

const NON_NEGATIVE = new Set(['relu', 'relu6', 'sigmoid', 'softmax', 'softplus', 'hardSigmoid', 'hard_sigmoid']);
const ELEMENTWISE = new Set(['Dropout', 'SeededDropout', 'MaxPooling2D', 'MaxPooling1D', 'Flatten', 'Reshape']);

/**
 * True when the tensor feeding position `index` of `plan` is known to be ≥ 0: the nearest layer with
 * an activation before it ends in relu/relu6/sigmoid/softmax/softplus, with only max-pooling, dropout,
 * flatten or reshape in between. (Then relu(x) = x on it, which Net2DeeperNet's identity needs.)
 */
export function nonNegativeInput(plan: readonly PlannedLayer[], index: number): boolean {
  for (let i = index - 1; i >= 0; i--) {
    const p = plan[i];
    if (!p) return false;
    const activation = 'keep' in p ? activationOf(p.keep) : p.activation;
    if (activation !== undefined) return NON_NEGATIVE.has(activation);
    if (!ELEMENTWISE.has(plannedClass(p))) return false;
  }
  return false;
}
