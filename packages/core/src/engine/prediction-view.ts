import type * as tf from '@tensorflow/tfjs';
import { CheckpointRegistry } from '../checkpoint/checkpoint-registry.js';
import type { Checkpointable } from '../plugin-api/checkpointable.js';
import type { Batch } from '../data/batch.js';
import type { StreamInfo } from '../data/experience.js';
import type { Predictor } from '../evaluation/evaluator.js';
import { EventBus } from '../events/event-bus.js';
import type { Adjustment } from '../plugin-api/adjustment.js';
import { LayersEngramModel, type EngramModel } from '../plugin-api/engram-model.js';
import type { LoadedPipeline } from '../loading/pipeline.loader.js';
import type { PipelineDefinition } from '../pipeline/pipeline-definition.js';
import { partsOf } from '../pipeline/pipeline-parts.js';
import type { ComponentRole } from '../plugin-api/component-descriptor.js';
import type { Transform } from '../plugin-api/transform.js';
import { Rng } from '../random/rng.js';
import { TransformChain } from '../stages/transform-chain.js';
import type { SerializedState } from '../plugin-api/serialized-state.js';
import type { Strategy } from '../plugin-api/strategy.js';
import { StrategyChain } from '../training/strategy-chain.js';
import { componentMaker } from './component-maker.js';

/**
 * How a copy of a run's network predicts exactly as the run's evaluation does: the evaluation view of
 * the network (adjustments' and strategies' `forEvaluation`: multi-head masks, Hedge's mixture), the
 * strategies' `predictor` (iCaRL's nearest mean of exemplars), and the test-phase preprocessing with
 * its fitted statistics. Owns the network and the components it was built with.
 */
export interface PredictionView {
  readonly model: EngramModel;
  /** Class scores replacing the model's logits, or undefined (the logits). Call inside `tf.tidy`. */
  readonly predictor: Predictor | undefined;
  /** The network the view predicts with (owned by the view until {@link release}). */
  readonly network: tf.LayersModel;
  /** The pipeline's preprocessing, test phase, as fitted when the view's states were captured. */
  prepare(batch: Batch): Batch;
  /** Frees the components' tensors but not the network, which the caller then owns (to reuse it). */
  release(): void;
  /** Frees the network and the components' tensors. */
  dispose(): void;
}

/** The parts of a pipeline a prediction depends on besides the weights, as a run or a view holds them. */
export interface PredictionParts {
  readonly transforms: readonly Transform[];
  readonly adjustments: readonly Adjustment[];
  readonly strategies: readonly Strategy[];
}

/** A part with state (transform, adjustment, strategy). */
interface StatefulPart {
  state?(): SerializedState | Promise<SerializedState>;
  restore?(state: SerializedState): void | Promise<void>;
}

/** Each part whose state a prediction depends on, under its checkpoint pointer, as a checkpointable. */
function predictionEntries(def: PipelineDefinition, parts: PredictionParts): Array<[string, Checkpointable]> {
  // Pointers from the pipeline's parts table, the ones the run's checkpoints use.
  const pointer = (role: ComponentRole): ((i: number) => string) => {
    const pointers = partsOf(def, role).map((p) => p.pointer);
    return (i) => pointers[i] ?? `/${role}/${i}`;
  };
  const transform = pointer('transform');
  const adjust = pointer('adjust');
  const strategy = pointer('strategy');
  const entries: Array<[string, StatefulPart]> = [
    ...parts.transforms.map((t, i): [string, StatefulPart] => [transform(i), t]),
    ...parts.adjustments
      .map((a, i): [string, Adjustment] => [adjust(i), a])
      .filter(([, a]) => a.forEvaluation !== undefined),
    ...parts.strategies
      .map((st, i): [string, Strategy] => [strategy(i), st])
      .filter(([, st]) => st.predictor !== undefined || st.forEvaluation !== undefined),
  ];
  return entries.flatMap(([pointer, part]): Array<[string, Checkpointable]> => {
    if (!part.state) return [];
    const state = part.state.bind(part);
    const restore = part.restore?.bind(part);
    return [[pointer, { state, ...(restore ? { restore: (s: SerializedState) => restore(s) } : {}) }]];
  });
}

/**
 * Copies of the states of a run's parts that predictions depend on (fitted preprocessing, adjustments
 * with `forEvaluation`, strategies with `predictor` or `forEvaluation`), by checkpoint pointer. Call
 * between two items, together with copying the weights: the copies share nothing with the run.
 */
export async function capturePredictionState(
  def: PipelineDefinition,
  parts: PredictionParts,
): Promise<Map<string, SerializedState>> {
  const out = new Map<string, SerializedState>();
  for (const [pointer, c] of predictionEntries(def, parts)) out.set(pointer, structuredClone(await c.state()));
  return out;
}

/**
 * Builds the {@link PredictionView} of `network` (which it then owns): fresh components of `loaded`'s
 * pipeline restored from `states` (a checkpoint's, or {@link capturePredictionState}'s), then the
 * adjustments' and the strategies' `forEvaluation`, then the strategies' `predictor` — the order
 * `engram eval` and the run's evaluation use. Components are made with their own generators (the
 * pipeline's seed), so building a view never draws from a run's random numbers.
 */
export async function buildPredictionView(
  loaded: LoadedPipeline,
  network: tf.LayersModel,
  states: ReadonlyMap<string, SerializedState>,
  info: StreamInfo,
): Promise<PredictionView> {
  const def = loaded.definition;
  const bus = new EventBus();
  const make = componentMaker(loaded, new Rng(def.seed), bus);
  const chain = new TransformChain(
    partsOf(def, 'transform').map((p) => make<Transform>('transform', p.ref, p.pointer)),
  );
  const adjustments = partsOf(def, 'adjust').map((p) => make<Adjustment>('adjust', p.ref, p.pointer));
  const strategies = new StrategyChain(
    partsOf(def, 'strategy').map((p) => make<Strategy>('strategy', p.ref, p.pointer)),
  );
  try {
    const registry = new CheckpointRegistry();
    for (const [pointer, c] of predictionEntries(def, {
      transforms: chain.transforms,
      adjustments,
      strategies: strategies.strategies,
    })) {
      registry.register(pointer, c, { optional: true });
    }
    await registry.restore(states);
    const plain: EngramModel = new LayersEngramModel(network);
    const adjusted = adjustments.reduce<EngramModel>((m, a) => a.forEvaluation?.(m, info) ?? m, plain);
    const model = strategies.forEvaluation(adjusted, info);
    const predictor = strategies.predictor({ model, info, prepare: (b) => chain.prepare(b, 'test') });
    return {
      model,
      predictor,
      network,
      prepare: (b) => chain.prepare(b, 'test'),
      release: () => strategies.dispose(),
      dispose: () => {
        strategies.dispose();
        network.dispose();
      },
    };
  } catch (e) {
    strategies.dispose();
    throw e;
  } finally {
    bus.complete();
  }
}
