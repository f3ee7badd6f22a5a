import { resolve } from 'node:path';
import { Container } from 'inversify';
import { firstValueFrom, lastValueFrom, toArray, type OperatorFunction } from 'rxjs';
import { CheckpointStore } from '../checkpoint/checkpoint.store.js';
import { CheckpointRegistry } from '../checkpoint/checkpoint-registry.js';
import { EventHistory, numberedLikeHistory } from '../checkpoint/event-history.js';
import type { Experience } from '../data/experience.js';
import { EventBus } from '../events/event-bus.js';
import type { RunStatus } from '../events/engram-event.js';
import { emitFinalPrequential } from '../metrics/final-prequential.js';
import { RUN_FILES, RunRecorder } from '../metrics/run-recorder.js';
import { PrequentialAccuracy } from '../metrics/prequential.js';
import { buildModel } from '../model/model.builder.js';
import type { LoadedPipeline } from '../pipeline/pipeline.loader.js';
import type { PipelineDefinition } from '../pipeline/pipeline-definition.js';
import { TOKENS } from '../plugin/tokens.js';
import { Rng } from '../random/rng.js';
import { AdjustStage } from '../stages/adjust.stage.js';
import { CheckpointStage } from '../stages/checkpoint.stage.js';
import { EvaluateStage } from '../stages/evaluate.stage.js';
import { PreprocessStage } from '../stages/preprocess.stage.js';
import type { RunItem } from '../stages/run-item.js';
import type { Stage, StageRun } from '../stages/stage.js';
import { orderStages } from '../stages/stage-order.js';
import { STAGE_TOKENS } from '../stages/stage-tokens.js';
import { TrainStage } from '../stages/train.stage.js';
import { OptimizerHandle } from '../training/optimizer-handle.js';
import { Trainer } from '../training/trainer.js';
import { componentMaker } from './component-maker.js';
import { guardObservers } from './observer-guard.js';
import { PulledFeed } from './pulled-feed.js';
import { loadContinuePoint, type ContinuePoint } from './continue-from.js';
import { restoreContinued } from './continue-restore.js';
import { earlierExperiences } from './earlier-experiences.js';
import { finishedRun } from './finished-run.js';
import { loadResumePoint, restoreAfterExperienceStart, restoreRun, type ResumePoint } from './resume.js';
import { TrainingControls } from '../training/training-controls.js';
import { buildComponents, registerCheckpointables, type RunComponents } from './run-components.js';
import { LoopTurns } from './loop-turns.js';
import { capturePredictionState } from './prediction-view.js';
import { RunControl } from './run-control.js';
import { RunFeed, type FeedResume } from './run-feed.js';
import { RunContext } from './run-context.js';
import { continuationOffset, mergeEvaluationTargets, RunLineage, shiftExperiences } from './run-lineage.js';
import type { RunOptions, RunOutcome } from './run-options.js';
import { RunState } from './run-state.js';

/** The built-in stages, in their order. */
const BUILTIN_STAGE_CLASSES = [PreprocessStage, AdjustStage, TrainStage, EvaluateStage, CheckpointStage] as const;

/**
 * Binds a run's services and its stages into a new container: the built-ins and the pipeline's plugin
 * stages under the multi-injection token `STAGE_TOKENS.Stage`, in the pipeline's order.
 */
function runContainer(
  def: PipelineDefinition,
  services: ReadonlyArray<readonly [symbol, unknown]>,
  c: RunComponents,
): Container {
  const container = new Container({ defaultScope: 'Singleton' });
  container.bind(TOKENS.Settings).toConstantValue(def);
  for (const [token, value] of services) container.bind(token).toConstantValue(value);
  for (const cls of BUILTIN_STAGE_CLASSES) container.bind<Stage>(cls).toSelf();
  const named = BUILTIN_STAGE_CLASSES.map((cls) => container.get<Stage>(cls));
  for (const stage of orderStages(named, c.stages)) container.bind<Stage>(STAGE_TOKENS.Stage).toConstantValue(stage);
  return container;
}

/**
 * [resume] The experiences a stream run had started before its checkpoint: the source's endless
 * experience 0, then one per boundary crossed (as the feed creates them).
 */
function resumedStream(first: Experience, current: number, seenClasses: ReadonlySet<number>): Experience[] {
  return Array.from({ length: Math.max(1, current - first.index + 1) }, (_, i) =>
    i === 0 ? first : { ...first, index: first.index + i, classes: [...seenClasses] },
  );
}

function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}

/**
 * Runs a loaded pipeline end to end: backend, components, model, then the run's items through the
 * stages resolved from the run's container (preprocess → adjust → train → evaluate → checkpoint, plus
 * plugin stages where the pipeline places them), recording every event to `metrics.jsonl` and the
 * summary to `summary.json`.
 *
 * Whatever happens once the recorder is attached, the run ends the same way: a `run-end` event with
 * its status (`completed`, `stopped` by the signal, or `failed` with the one-line cause), the
 * loggers closed, the event stream completed, summary.json written — then a failure is rethrown.
 */
export async function runPipeline(loaded: LoadedPipeline, options: RunOptions = {}): Promise<RunOutcome> {
  const def = loaded.definition;
  const outDir = resolve(
    options.outDir ?? (def.output.dir ? resolve(loaded.baseDir, def.output.dir) : `runs/${def.name}`),
  );
  const warn = options.warn ?? ((m: string) => process.stderr.write(`warning: ${m}\n`));
  const rootRng = new Rng(def.seed);
  // The run's own backend lease, accelerated operations and dropout generator (no process-wide state).
  const context = await RunContext.open(options.backend ?? def.backend, rootRng.derive('dropout'));
  const backend = context.backend;
  const bus = new EventBus();
  const state = new RunState(rootRng);
  const optimizer = new OptimizerHandle(def.optimizer, context.accelerator, def.training);
  // A serving run (yieldEveryMs given) also turns the loop inside evaluation and checkpoints.
  const control = new RunControl(
    options.signal,
    options.yieldEveryMs !== undefined ? new LoopTurns(options.yieldEveryMs, def.training.batchSize) : undefined,
  );
  const registry = new CheckpointRegistry();
  const prequential = new PrequentialAccuracy({ window: def.evaluation.window, fading: def.evaluation.fading });
  const guard = guardObservers(bus);
  let parts: RunComponents | undefined;
  let container: Container | undefined;
  const closing: Array<() => Promise<void>> = [];
  try {
    parts = buildComponents(def, componentMaker(loaded, rootRng, bus));
    const c: RunComponents = options.stages ? { ...parts, stages: [...parts.stages, ...options.stages] } : parts;
    state.info = await c.source.describe();
    const store = new CheckpointStore(
      def.checkpoint.dir ? resolve(loaded.baseDir, def.checkpoint.dir) : resolve(outDir, 'checkpoints'),
      def.checkpoint.keep,
      options.version ?? '0.0.0',
    );
    // [resume] the newest valid checkpoint (engine/resume.ts); none: a fresh run, said in one line.
    let resume: ResumePoint | undefined;
    if (options.resume) {
      resume = await loadResumePoint(store, def, resolve(outDir, RUN_FILES.metrics), warn);
      // A run that went on to its end after this checkpoint: nothing to resume, nothing runs or is written.
      const finished = resume && (await finishedRun(resume, outDir));
      if (resume && finished)
        return { summary: finished, backend, outDir, finished: { dir: resume.dir, step: resume.step } };
      if (resume) options.onResume?.({ dir: resume.dir, step: resume.step, reason: resume.reason }); // say where the run restarts
      if (!resume) warn(`nothing to resume: no checkpoint in ${store.root}; starting a new run`);
    }
    // [continue] a new run from an earlier run's newest valid checkpoint (engine/continue-from.ts).
    const from =
      options.from ?? (def.continueFrom !== undefined ? resolve(loaded.baseDir, def.continueFrom) : undefined);
    let continued: ContinuePoint | undefined;
    if (!resume && from !== undefined) {
      continued = await loadContinuePoint(from, warn);
      options.onContinue?.({ dir: continued.dir, step: continued.step, name: continued.run.pipeline.name });
    }
    const recorder = new RunRecorder(outDir, {
      name: def.name,
      seed: def.seed,
      strategies: c.strategies.names,
      scenario: state.info.scenario,
      backend: backend.description,
      pipeline: def,
    });
    // [resume] this run's past events, [continue] the earlier run's; then the live ones.
    recorder.attach(
      new EventHistory(resume?.events ?? continued?.events ?? [], continued !== undefined).attach(bus.events$),
    );
    try {
      options.observe?.(bus.events$);
    } catch (e) {
      guard.report('the run observer', e);
    }
    const loggerEvents$ = numberedLikeHistory(
      bus.events$,
      resume?.events ?? continued?.events ?? [],
      continued !== undefined,
    );
    for (const { logger, path } of c.loggers) {
      try {
        logger.attach(loggerEvents$, outDir);
      } catch (e) {
        guard.report(`logger ${path}`, e);
      }
    }
    let status: RunStatus = 'failed';
    let failure: unknown;
    let stopped: string | undefined;
    try {
      stopped = await train(
        loaded,
        backend.description,
        c,
        {
          context,
          state,
          optimizer,
          control,
          registry,
          prequential,
          bus,
          store,
          recorder,
          resume,
          continued,
          outDir,
          closing,
          yieldEveryMs: options.yieldEveryMs,
        },
        (made) => (container = made),
      );
      status = stopped !== undefined ? 'stopped' : 'completed';
    } catch (e) {
      failure = e;
    }
    // summary.prequential covers every sample of a stream, not only up to the last logged step.
    if (state.info.experiences === 'endless') emitFinalPrequential(bus, prequential, state.cursor.step);
    const wallSeconds = state.priorWallSeconds + (performance.now() - state.startedAt) / 1000;
    bus.emit({
      type: 'run-end',
      wallSeconds,
      samplesPerSecond: (state.cursor.samples + state.cursor.replayed) / Math.max(1e-9, state.trainSeconds),
      steps: state.cursor.step,
      samples: state.cursor.samples,
      replayedSamples: state.cursor.replayed,
      status,
      ...(stopped !== undefined ? { stopped } : {}),
      ...(failure !== undefined ? { error: oneLine(failure) } : {}),
    });
    for (const { logger, path } of c.loggers) {
      try {
        await logger.close?.();
      } catch (e) {
        guard.report(`closing logger ${path}`, e);
      }
    }
    bus.complete();
    let summary;
    try {
      summary = await recorder.finish();
    } catch (e) {
      failure ??= e;
    }
    if (failure !== undefined || summary === undefined) throw failure;
    return { summary, backend, outDir, ...(stopped !== undefined ? { stopped } : {}) };
  } finally {
    bus.complete();
    await guard.release();
    await parts?.source.close?.();
    for (const close of closing) await close().catch(() => undefined);
    parts?.strategies.dispose();
    optimizer.dispose();
    (state.model as typeof state.model | undefined)?.dispose();
    container?.unbindAll();
    context.close();
  }
}

/** What {@link train} drives. */
interface RunServices {
  readonly context: RunContext;
  readonly state: RunState;
  readonly optimizer: OptimizerHandle;
  readonly control: RunControl;
  readonly registry: CheckpointRegistry;
  readonly prequential: PrequentialAccuracy;
  readonly bus: EventBus;
  readonly store: CheckpointStore;
  readonly recorder: RunRecorder;
  readonly resume: ResumePoint | undefined;
  /** [continue] The earlier run this new run starts from (`--from`), when it does and is not resumed. */
  readonly continued: ContinuePoint | undefined;
  readonly outDir: string;
  /** `RunOptions.yieldEveryMs`. */
  readonly yieldEveryMs: number | undefined;
  /** Clean-ups for the end of the run (earlier runs' data sources). */
  readonly closing: Array<() => Promise<void>>;
}

/**
 * Builds the model, restores a checkpoint, resolves the stages and runs `feed$.pipe(...stages)` to
 * its end. Returns the stop reason when a signal stopped the run.
 */
async function train(
  loaded: LoadedPipeline,
  backend: string,
  c: RunComponents,
  s: RunServices,
  onContainer: (c: Container) => void,
): Promise<string | undefined> {
  const { state, bus, resume, continued } = s;
  const def = loaded.definition;
  // [continue] what does not carry over is said in the run's history (summary.json `warnings`), after its run-start.
  const notes: string[] = [];
  const note = (message: string): void => void notes.push(message);
  const inputShape = c.transforms.outputShape(state.info);
  state.model = await buildModel(def.model, {
    inputShape,
    outputs: state.info.numClasses,
    rng: state.rng.derive('model'),
    dropout: s.context.dropout,
    baseDir: loaded.baseDir,
  });
  registerCheckpointables(s.registry, def, c, state, s.optimizer, s.prequential, s.context.dropout);
  // Schedule, validation split and early stopping (restored exactly on resume, carried by --from).
  const controls = new TrainingControls(def, state, s.optimizer);
  controls.checkMode(state.info.experiences === 'endless');
  s.registry.register('/training', controls, { optional: true });
  // [continue] the chain of runs this one belongs to (restored by a resume, set by --from).
  const lineage = new RunLineage(() => ({ name: def.name, pipeline: def, baseDir: loaded.baseDir }));
  s.registry.register('/run/lineage', lineage, { optional: true, afterExperienceStart: false });
  if (resume) await restoreRun(resume, state, s.registry, s.context);
  else if (continued) {
    await restoreContinued(continued, def, state, s.registry, s.context, inputShape, note);
    lineage.earlier = [...continued.lineage];
  }
  const container = runContainer(
    def,
    [
      [TOKENS.EventBus, bus],
      [STAGE_TOKENS.RunState, state],
      [STAGE_TOKENS.Transforms, c.transforms],
      [STAGE_TOKENS.Adjustments, c.adjustments],
      [STAGE_TOKENS.Strategies, c.strategies],
      [STAGE_TOKENS.Optimizer, s.optimizer],
      [STAGE_TOKENS.Control, s.control],
      [STAGE_TOKENS.Checkpoints, s.registry],
      [STAGE_TOKENS.CheckpointStore, s.store],
      [STAGE_TOKENS.MetricsLog, s.recorder],
      [STAGE_TOKENS.Prequential, s.prequential],
      [STAGE_TOKENS.Trainer, new Trainer(c.strategies, s.optimizer)],
      [STAGE_TOKENS.TrainingControls, controls],
      ...(c.detector ? [[STAGE_TOKENS.Detector, c.detector] as const] : []),
    ],
    c,
  );
  onContainer(container);
  const stream = state.info.experiences === 'endless';
  state.startedAt = performance.now();
  bus.emit({
    type: 'run-start',
    name: def.name,
    seed: def.seed,
    backend,
    mode: stream ? 'stream' : 'experiences',
    experiences: state.info.experiences,
    scenario: state.info.scenario,
    strategies: c.strategies.names,
    inputShape,
    numClasses: state.info.numClasses,
    parameters: state.model.network.countParams(),
    ...(continued ? { continuedFrom: { dir: continued.dir, step: continued.step } } : {}),
  });
  for (const message of notes.splice(0)) bus.emit({ type: 'warning', message });
  const feedResume: FeedResume | undefined = resume && {
    experience: resume.experience,
    midExperience: resume.midExperience,
    restoreAfterStart: () => restoreAfterExperienceStart(resume, state, s.registry),
  };
  const feed = new RunFeed({
    state,
    control: s.control,
    events: bus,
    training: def.training,
    resume: feedResume,
    continued: continued !== undefined,
    ...(s.yieldEveryMs !== undefined ? { yieldEveryMs: s.yieldEveryMs } : {}),
  });
  // [continue] the earlier runs' experiences are evaluated too (evaluate-only); this run's own continue their numbering.
  // A finite source's experiences, loaded once: an earlier run with the same data evaluates on them too.
  let ownExperiences: Promise<Experience[]> | undefined;
  const loadOwn = (): Promise<Experience[]> =>
    (ownExperiences ??= lastValueFrom(c.source.experiences().pipe(toArray())));
  const earlier =
    lineage.earlier.length > 0
      ? await earlierExperiences(lineage.earlier, loaded, bus, note, stream ? undefined : loadOwn)
      : { lists: [], sources: [] };
  for (const source of earlier.sources) s.closing.push(async () => source.close?.());
  for (const message of notes.splice(0)) bus.emit({ type: 'warning', message });
  let items: AsyncIterable<RunItem>;
  if (stream) {
    // [resume] the source was restored to its position (restoreRun) before this subscription starts its feed.
    const source = await firstValueFrom(c.source.experiences());
    if (continued) lineage.offset = continuationOffset([source], continued.nextExperience);
    const first = shiftExperiences([source], lineage.offset)[0] ?? source;
    const streamed = resume ? resumedStream(first, state.cursor.experience, state.seenClasses) : [first];
    state.experiences.push(...mergeEvaluationTargets(streamed, earlier.lists));
    items = feed.stream(first, streamed[streamed.length - 1] ?? first);
  } else {
    const all = await loadOwn();
    if (continued) lineage.offset = continuationOffset(all, continued.nextExperience);
    const own = shiftExperiences(all, lineage.offset);
    state.experiences.push(...mergeEvaluationTargets(own, earlier.lists));
    items = feed.experiences(own);
  }
  const run: StageRun = {
    events: bus,
    outputs: { dir: s.outDir, set: (name, value) => s.recorder.setOutput(name, value) },
    info: state.info,
    cursor: state.cursor,
    model: () => state.model,
    preprocess: (b) => c.transforms.prepare(b, 'test'),
    predictionState: () =>
      capturePredictionState(def, {
        transforms: c.transforms.transforms,
        adjustments: c.adjustments,
        strategies: c.strategies.strategies,
      }),
  };
  const operators: OperatorFunction<RunItem, RunItem>[] = container
    .getAll<Stage>(STAGE_TOKENS.Stage)
    .map((stage) => stage.operator(run));
  // The run: feed$.pipe(...stages), closed by the demand that pulls the next item.
  const pulled = new PulledFeed(items);
  const staged = operators.reduce((items$, op) => items$.pipe(op), pulled.items$);
  await lastValueFrom(staged.pipe(pulled.demand()), { defaultValue: undefined });
  return feed.stopped;
}
