import { resolve } from 'node:path';
import { CheckpointStore } from '../checkpoint/checkpoint.store.js';
import { CheckpointRegistry } from '../checkpoint/checkpoint-registry.js';
import { EventHistory, numberedLikeHistory } from '../checkpoint/event-history.js';
import { EventBus } from '../events/event-bus.js';
import { RunRecorder } from '../metrics/run-recorder.js';
import { PrequentialAccuracy } from '../metrics/prequential.js';
import type { LoadedPipeline } from '../loading/pipeline.loader.js';
import { redactSecrets } from '../pipeline/secret-redaction.js';
import type { PipelineDefinition } from '../pipeline/pipeline-definition.js';
import { TOKENS } from '../plugin/tokens.js';
import { Rng } from '../random/rng.js';
import { STAGE_TOKENS } from '../stages/stage-tokens.js';
import { OptimizerHandle } from '../training/optimizer-handle.js';
import { chooseStart } from './choose-start.js';
import { componentMaker } from './component-maker.js';
import { FinishedRun } from './finished-run.js';
import { LoopTurns } from '../run/loop-turns.js';
import { guardObservers } from './observer-guard.js';
import { RunContext } from './run-context.js';
import { RunControl } from '../run/run-control.js';
import { buildComponents, type RunComponents } from './run-components.js';
import { recordOverrides } from './resume-overrides.js';
import type { RunOptions, RunOutcome } from './run-options.js';
import type { RunScope } from './run-scope.js';
import type { RunStart } from './run-start.js';
import { RunState } from '../run/run-state.js';

/**
 * A run's services, built by {@link assembleRun} in this order and owned by its {@link RunScope}
 * (released in the reverse order when the run ends). The stages get them from the scope's container.
 */
export interface AssembledRun {
  readonly loaded: LoadedPipeline;
  readonly def: PipelineDefinition;
  readonly outDir: string;
  readonly scope: RunScope;
  readonly context: RunContext;
  readonly bus: EventBus;
  readonly state: RunState;
  readonly optimizer: OptimizerHandle;
  readonly control: RunControl;
  readonly registry: CheckpointRegistry;
  readonly prequential: PrequentialAccuracy;
  /** Reports failures of observers and loggers as `warning` events. */
  readonly guard: ReturnType<typeof guardObservers>;
  readonly components: RunComponents;
  readonly store: CheckpointStore;
  /** How the run begins (new, resumed, continued), chosen once. */
  readonly start: RunStart;
  readonly recorder: RunRecorder;
  /** `RunOptions.yieldEveryMs`. */
  readonly yieldEveryMs: number | undefined;
}

/** What {@link assembleRun} gives when there is nothing to run (`--resume` of a finished run). */
export interface NothingToRun {
  /** The finished run's outcome (`RunOutcome.finished` set); nothing was run or written. */
  readonly outcome: RunOutcome;
}

/**
 * Builds a run's services in order, each owned by `scope`: the backend lease and the run's context,
 * the event bus and the guard of its observers, the run state (its model is released with it), the
 * optimizer, the control (stop signal, loop turns), the checkpoint registry and the prequential
 * counters, the pipeline's components (source closed, strategies disposed), the checkpoint store, the
 * run's start ({@link chooseStart}) and the recorder of `metrics.jsonl` with the start's history. The
 * run's observers and loggers are attached last, before the first event. Every service the stages
 * inject is bound in the scope's container as it is built. When the start finds the run already
 * finished, the assembly stops there ({@link NothingToRun}): no recorder, no event, no file.
 */
export async function assembleRun(
  loaded: LoadedPipeline,
  options: RunOptions,
  scope: RunScope,
  outDir: string,
): Promise<AssembledRun | NothingToRun> {
  const def = loaded.definition;
  const warn = options.warn ?? ((m: string) => process.stderr.write(`warning: ${m}\n`));
  const rootRng = new Rng(def.seed);
  scope.provide(TOKENS.Settings, def);
  // What every checkpoint records of the run's definition: the pipeline and its --set flags, redacted.
  scope.provide(STAGE_TOKENS.StoredRun, {
    pipeline: redactSecrets(def),
    overrides: recordOverrides(options.overrides ?? []),
  });
  // The run's own backend lease, accelerated operations and dropout generator (no process-wide state).
  const context = scope.own(
    'run context',
    await RunContext.open(options.backend ?? def.backend, rootRng.derive('dropout')),
    (c) => c.close(),
  );
  const bus = scope.provide(TOKENS.EventBus, new EventBus());
  const state = scope.provide(STAGE_TOKENS.RunState, new RunState(rootRng), (s) =>
    (s.model as typeof s.model | undefined)?.dispose(),
  );
  const optimizer = scope.provide(
    STAGE_TOKENS.Optimizer,
    new OptimizerHandle(def.optimizer, context.accelerator, def.training),
    (o) => o.dispose(),
  );
  // A serving run (yieldEveryMs given) also turns the loop inside evaluation and checkpoints.
  const turns =
    options.yieldEveryMs !== undefined ? new LoopTurns(options.yieldEveryMs, def.training.batchSize) : undefined;
  const control = scope.provide(STAGE_TOKENS.Control, new RunControl(options.signal, turns));
  const registry = scope.provide(STAGE_TOKENS.Checkpoints, new CheckpointRegistry());
  const prequential = scope.provide(
    STAGE_TOKENS.Prequential,
    new PrequentialAccuracy({ window: def.evaluation.window, fading: def.evaluation.fading }),
  );
  const guard = scope.own('observer guard', guardObservers(bus), (g) => g.release());
  scope.own('event stream', bus, (b) => b.complete());
  const components = pipelineComponents(loaded, options, scope, rootRng, bus);
  state.info = await components.source.describe();
  const store = scope.provide(
    STAGE_TOKENS.CheckpointStore,
    new CheckpointStore(
      def.checkpoint.dir ? resolve(loaded.baseDir, def.checkpoint.dir) : resolve(outDir, 'checkpoints'),
      def.checkpoint.keep,
      options.version ?? '0.0.0',
    ),
  );
  const start = await chooseStart({ def, baseDir: loaded.baseDir, outDir, store, options, warn });
  if (start instanceof FinishedRun) {
    const finished = { dir: start.dir, step: start.step };
    return { outcome: { summary: start.summary, backend: context.backend, outDir, finished } };
  }
  const recorder = scope.provide(
    STAGE_TOKENS.MetricsLog,
    new RunRecorder(outDir, {
      name: def.name,
      seed: def.seed,
      strategies: components.strategies.names,
      scenario: state.info.scenario,
      backend: context.backend.description,
      pipeline: redactSecrets(def),
    }),
  );
  // The start's history (this run's past events, or the earlier run's), then the live ones.
  recorder.attach(new EventHistory(start.history.events, start.history.earlierRun).attach(bus.events$));
  try {
    options.observe?.(bus.events$);
  } catch (e) {
    guard.report('the run observer', e);
  }
  // Loggers get the live events numbered as metrics.jsonl numbers them (seq/time continue the start's history).
  const loggerEvents$ = numberedLikeHistory(bus.events$, start.history.events, start.history.earlierRun);
  for (const { logger, path } of components.loggers) {
    try {
      logger.attach(loggerEvents$, outDir);
    } catch (e) {
      guard.report(`logger ${path}`, e);
    }
  }
  const run = { loaded, def, outDir, scope, context, bus, state, optimizer, control, registry, prequential, guard };
  return { ...run, components, store, start, recorder, yieldEveryMs: options.yieldEveryMs };
}

/**
 * The pipeline's components, made by their plugins (each with its JSON pointer) and the embedder's
 * stages after the pipeline's; the source is closed and the strategies disposed with the scope.
 */
function pipelineComponents(
  loaded: LoadedPipeline,
  options: RunOptions,
  scope: RunScope,
  rootRng: Rng,
  bus: EventBus,
): RunComponents {
  const parts = buildComponents(loaded.definition, componentMaker(loaded, rootRng, bus));
  scope.own('strategies', parts.strategies, (s) => s.dispose());
  scope.own('data source', parts.source, async (s) => s.close?.());
  const c: RunComponents = options.stages ? { ...parts, stages: [...parts.stages, ...options.stages] } : parts;
  scope.provide(STAGE_TOKENS.Transforms, c.transforms);
  scope.provide(STAGE_TOKENS.Adjustments, c.adjustments);
  scope.provide(STAGE_TOKENS.Strategies, c.strategies);
  if (c.detector) scope.provide(STAGE_TOKENS.Detector, c.detector);
  return c;
}
