import type { CheckpointRegistry } from '../checkpoint/checkpoint-registry.js';
import type { Checkpointable } from '../plugin-api/checkpointable.js';
import type { DataSource } from '../plugin-api/data-source.js';
import type { RunLogger } from '../plugin-api/run-logger.js';
import type { PrequentialAccuracy } from '../metrics/prequential.js';
import type { Adjustment } from '../plugin-api/adjustment.js';
import type { PipelineDefinition } from '../pipeline/pipeline-definition.js';
import { partsOf, pipelineParts, type PipelinePart } from '../pipeline/pipeline-parts.js';
import type { ComponentRole } from '../plugin-api/component-descriptor.js';
import { checkHooks, STRATEGY_HOOKS } from '../plugin/hook-check.js';
import type { Rng } from '../random/rng.js';
import type { ComponentRef } from '../plugin/component-factory.js';
import type { Transform } from '../plugin-api/transform.js';
import { makeGuardedStage } from '../stages/guarded-stage.js';
import type { PlacedStage } from '../stages/stage-order.js';
import { TransformChain } from '../stages/transform-chain.js';
import type { BoundaryDetector } from '../plugin-api/boundary-detector.js';
import type { OptimizerHandle } from '../training/optimizer-handle.js';
import type { Strategy } from '../plugin-api/strategy.js';
import { StrategyChain } from '../training/strategy-chain.js';
import type { ComponentMaker } from './component-maker.js';
import {
  cursorCheckpointable,
  optimizerCheckpointable,
  rngCheckpointable,
  sourceCheckpointable,
} from './run-checkpointables.js';
import { ResumeError } from './resume.js';
import type { RunState } from '../run/run-state.js';

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

/**
 * Builds every component of `def` through `make`, each with its JSON pointer from the pipeline's
 * parts table ({@link pipelineParts}).
 */
export function buildComponents(def: PipelineDefinition, make: ComponentMaker): RunComponents {
  const parts = pipelineParts(def);
  const of = (role: ComponentRole): PipelinePart[] => parts.filter((p) => p.role === role);
  const stages = of('stage').map(({ ref, kind, pointer: path }): PlacedStage => {
    const { after, before, ...rest } = ref as ComponentRef & { after?: string; before?: string };
    // Plugin stages are wrapped at the boundary: their failures end the run named (stages/guarded-stage.ts).
    const stage = makeGuardedStage(() => make<unknown>('stage', rest, path), kind, path);
    return { stage, path, ...(after !== undefined ? { after } : {}), ...(before !== undefined ? { before } : {}) };
  });
  const [data] = of('dataset');
  const [detector] = of('detector');
  if (!data) throw new Error('the pipeline has no "data" section');
  return {
    source: make<DataSource>('dataset', data.ref, data.pointer),
    transforms: new TransformChain(of('transform').map((p) => make<Transform>('transform', p.ref, p.pointer))),
    adjustments: of('adjust').map((p) => make<Adjustment>('adjust', p.ref, p.pointer)),
    strategies: new StrategyChain(
      of('strategy').map((p) => checkedStrategy(make<Strategy>('strategy', p.ref, p.pointer), p)),
    ),
    ...(detector ? { detector: make<BoundaryDetector>('detector', detector.ref, detector.pointer) } : {}),
    loggers: of('logger').map((p) => ({ logger: make<RunLogger>('logger', p.ref, p.pointer), path: p.pointer })),
    stages,
  };
}

/** A strategy whose hook-like methods are all strategy hooks (see {@link checkHooks}). */
function checkedStrategy(strategy: Strategy, part: PipelinePart): Strategy {
  checkHooks(strategy, STRATEGY_HOOKS, part);
  return strategy;
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
  // Each component under its pointer in the pipeline's parts table.
  const pointers = (role: ComponentRole): string[] => partsOf(def, role).map((p) => p.pointer);
  const strategies = pointers('strategy');
  const transforms = pointers('transform');
  const adjustments = pointers('adjust');
  c.strategies.strategies.forEach((s, i) => stateful(s) && registry.register(strategies[i] ?? '/strategy', s));
  c.transforms.transforms.forEach((t, i) => stateful(t) && registry.register(transforms[i] ?? '/preprocess', t));
  c.adjustments.forEach((a, i) => stateful(a) && registry.register(adjustments[i] ?? '/adjust', a));
  if (stateful(c.detector)) registry.register(pointers('detector')[0] ?? '/boundary', c.detector);
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
