import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, toArray } from 'rxjs';
import { selectBackend } from '../backend/backend.selector.js';
import { latestValidCheckpoint } from '../checkpoint/checkpoint-model.js';
import { CheckpointRegistry } from '../checkpoint/checkpoint-registry.js';
import { decodeCheckpoint } from '../checkpoint/run-snapshot.js';
import type { DataSource } from '../data/data-source.js';
import type { EvaluationResult } from '../events/engram-event.js';
import { EventBus } from '../events/event-bus.js';
import { evaluate } from '../evaluation/evaluator.js';
import { LayersEngramModel } from '../model/engram-model.js';
import type { LoadedPipeline } from '../pipeline/pipeline.loader.js';
import type { Transform } from '../preprocess/transform.js';
import { Rng } from '../random/rng.js';
import { TransformChain } from '../stages/transform-chain.js';
import { strategyPointer } from '../checkpoint/checkpoint-v1.js';
import type { ComponentRef } from '../plugin/component-factory.js';
import type { Strategy } from '../training/strategy.js';
import type { Adjustment } from '../model/adjustment.js';
import type { EngramModel } from '../model/engram-model.js';
import type { SerializedState } from '../training/serialized-state.js';
import { StrategyChain } from '../training/strategy-chain.js';
import { componentMaker } from './component-maker.js';

/** Result of {@link evaluateCheckpoint}. */
export interface CheckpointEvaluation {
  readonly dir: string;
  readonly step: number;
  readonly results: EvaluationResult[];
}

/** A component whose state is optional: a transform or an adjustment. */
interface StatefulPart {
  state?(): SerializedState;
  restore?(state: SerializedState): void;
}

/**
 * Registers `part` at `pointer` as an optional entry when it keeps state (its state is restored when
 * the checkpoint has it); a part without `state()` is left out.
 */
function registerPart(registry: CheckpointRegistry, pointer: string, part: StatefulPart): void {
  if (!part.state) return;
  registry.register(pointer, { state: () => part.state?.() ?? {}, ...(part.restore ? { restore: (s: SerializedState) => part.restore?.(s) } : {}) }, { optional: true });
}

/**
 * Evaluates the newest valid checkpoint under `checkpointPath` on the test sets of every experience
 * of `loaded`'s data, without training: the checkpoint's model (plain tfjs Layers model), the state
 * of the preprocessing (fitted transforms), and the state of a strategy that predicts on its own
 * (iCaRL's nearest-mean-of-exemplars `predictor`) or evaluates through its own view of the network
 * (Hedge's mixture of heads, `forEvaluation`), restored through a checkpoint registry that holds
 * only those. The run scores its test sets the same way. Nothing in the checkpoint is executed.
 */
export async function evaluateCheckpoint(loaded: LoadedPipeline, checkpointPath: string, warn: (message: string) => void): Promise<CheckpointEvaluation> {
  const def = loaded.definition;
  await selectBackend(def.backend);
  const checkpoint = await latestValidCheckpoint(checkpointPath, warn);
  const bus = new EventBus();
  const make = componentMaker(loaded, new Rng(def.seed), bus);
  const source = make<DataSource>('dataset', def.data, '/data');
  const chain = new TransformChain(def.preprocess.map((r, i) => make<Transform>('transform', r, `/preprocess/${i}`)));
  const { states, model: artifacts } = decodeCheckpoint(checkpoint.files, checkpoint.format, checkpoint.dir, def);
  const network = new LayersEngramModel(await tf.loadLayersModel(tf.io.fromMemory(artifacts)));
  const adjustments = def.adjust.map((r, i) => make<Adjustment>('adjust', r, `/adjust/${i}`));
  const refs = Array.isArray(def.strategy) ? (def.strategy as readonly ComponentRef[]) : [def.strategy as ComponentRef];
  const strategies = new StrategyChain(refs.map((r, i) => make<Strategy>('strategy', r, strategyPointer(def, i))));
  try {
    const registry = new CheckpointRegistry();
    chain.transforms.forEach((t, i) => registerPart(registry, `/preprocess/${i}`, t));
    adjustments.forEach((a, i) => a.forEvaluation && registerPart(registry, `/adjust/${i}`, a));
    strategies.strategies.forEach((st, i) => {
      if ((st.predictor || st.forEvaluation) && st.state && st.restore) registry.register(strategyPointer(def, i), st as Strategy & Required<Pick<Strategy, 'state'>>, { optional: true });
    });
    await registry.restore(states);
    const info = await source.describe();
    // The view the run evaluated with (multi-head masks), over the checkpoint's network.
    // …and the strategies' (Hedge's α-weighted mixture of its heads, α as checkpointed).
    const model = strategies.forEvaluation(adjustments.reduce<EngramModel>((m, a) => a.forEvaluation?.(m, info) ?? m, network), info);
    if (info.experiences === 'endless') throw new Error('eval needs a pipeline with finite experiences (test sets); this one is a live stream');
    const experiences = await lastValueFrom(source.experiences().pipe(toArray()));
    const predictor = strategies.predictor({ model, info });
    const results = await evaluate(model, experiences, info.numClasses, def.evaluation.batchSize, (b) => chain.prepare(b, 'test'), predictor);
    return { dir: checkpoint.dir, step: checkpoint.step, results };
  } finally {
    strategies.dispose();
    network.dispose();
    await source.close?.();
    bus.complete();
  }
}
