import type { CheckpointRegistry } from '../checkpoint/checkpoint-registry.js';
import type { Checkpointable } from '../checkpoint/checkpointable.js';
import { strategyPointer } from '../checkpoint/checkpoint-v1.js';
import type { DataSource } from '../data/data-source.js';
import type { RunLogger } from '../logging/run-logger.js';
import type { PrequentialAccuracy } from '../metrics/prequential.js';
import type { Adjustment } from '../model/adjustment.js';
import type { PipelineDefinition } from '../pipeline/pipeline-definition.js';
import type { Rng } from '../random/rng.js';
import type { ComponentRef } from '../plugin/component-factory.js';
import type { Transform } from '../preprocess/transform.js';
import { makeGuardedStage } from '../stages/guarded-stage.js';
import type { PlacedStage } from '../stages/stage-order.js';
import { TransformChain } from '../stages/transform-chain.js';
import type { BoundaryDetector } from '../stream/boundary-detector.js';
import type { OptimizerHandle } from '../training/optimizer-handle.js';
import type { Strategy } from '../training/strategy.js';
import { StrategyChain } from '../training/strategy-chain.js';
import type { ComponentMaker } from './component-maker.js';
import {
  cursorCheckpointable,
  optimizerCheckpointable,
  rngCheckpointable,
  sourceCheckpointable,
} from './run-checkpointables.js';
import { ResumeError } from './resume.js';
import type { RunState } from './run-state.js';

/** The components a pipeline names, built by their plugins. */
export interface RunComponents {
  readonly source: DataSource;
  readonly transforms: TransformChain;
  readonly adjustments: readonly Adjustment[];
  readonly strategies: StrategyChain;
  readonly detector?: BoundaryDetector;
  readonly loggers: ReadonlyArray<{ readonly logger: RunLogger; readonly path: string }>;
  /** Plugin stages with their positions and pointers. */
  readonly stages: readonly PlacedStage[];
}

/** Builds every component of `def` through `make` (each with its JSON pointer). */
export function buildComponents(def: PipelineDefinition, make: ComponentMaker): RunComponents {
  const strategyRefs = Array.isArray(def.strategy)
    ? (def.strategy as readonly ComponentRef[])
    : [def.strategy as ComponentRef];
  const stages = (def.stages ?? []).map((ref, i): PlacedStage => {
    const path = `/stages/${i}`;
    const { after, before, ...rest } = ref as ComponentRef & { after?: string; before?: string };
    // Plugin stages are wrapped at the boundary: their failures end the run named (stages/guarded-stage.ts).
    const stage = makeGuardedStage(() => make<unknown>('stage', rest, path), ref.kind, path);
    return { stage, path, ...(after !== undefined ? { after } : {}), ...(before !== undefined ? { before } : {}) };
  });
  return {
    source: make<DataSource>('dataset', def.data, '/data'),
    transforms: new TransformChain(def.preprocess.map((r, i) => make<Transform>('transform', r, `/preprocess/${i}`))),
    adjustments: def.adjust.map((r, i) => make<Adjustment>('adjust', r, `/adjust/${i}`)),
    strategies: new StrategyChain(strategyRefs.map((r, i) => make<Strategy>('strategy', r, strategyPointer(def, i)))),
    ...(def.boundary ? { detector: make<BoundaryDetector>('detector', def.boundary, '/boundary') } : {}),
    loggers: def.loggers.map((r, i) => ({
      logger: make<RunLogger>('logger', r, `/loggers/${i}`),
      path: `/loggers/${i}`,
    })),
    stages,
  };
}

function stateful(value: unknown): value is Checkpointable {
  return typeof value === 'object' && value !== null && typeof (value as Checkpointable).state === 'function';
}

/**
 * Registers every checkpointable part of a run under its JSON pointer, in restore order: the
 * optimizer and the source position (restored once), then components that keep state (strategies,
 * transforms, adjustments, the detector, plugin stages), the prequential counters (`/evaluation`),
 * the run's random generators and its cursor.
 */
export function registerCheckpointables(
  registry: CheckpointRegistry,
  def: PipelineDefinition,
  c: RunComponents,
  state: RunState,
  optimizer: OptimizerHandle,
  prequential: PrequentialAccuracy,
  dropout: Rng,
): void {
  registry.register(
    '/optimizer',
    optimizerCheckpointable(optimizer, state, (m) => new ResumeError(`cannot resume: ${m}`)),
    { afterExperienceStart: false },
  );
  if (c.source.state)
    registry.register('/data', sourceCheckpointable(c.source), { afterExperienceStart: false, optional: true });
  c.strategies.strategies.forEach((s, i) => stateful(s) && registry.register(strategyPointer(def, i), s));
  c.transforms.transforms.forEach((t, i) => stateful(t) && registry.register(`/preprocess/${i}`, t));
  c.adjustments.forEach((a, i) => stateful(a) && registry.register(`/adjust/${i}`, a));
  if (stateful(c.detector)) registry.register('/boundary', c.detector);
  for (const p of c.stages) if (stateful(p.stage)) registry.register(p.path, p.stage);
  registry.register('/evaluation', prequential, { optional: true });
  registry.register(
    '/run/rng',
    rngCheckpointable(() => state.rng),
  );
  // The run context's dropout generator (every SeededDropout of this run's model draws from it).
  registry.register(
    '/run/dropout',
    rngCheckpointable(() => dropout),
  );
  registry.register('/run/cursor', cursorCheckpointable(state));
}
