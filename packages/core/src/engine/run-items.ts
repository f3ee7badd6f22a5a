import { firstValueFrom, lastValueFrom, toArray, type OperatorFunction } from 'rxjs';
import type { Experience } from '../data/experience.js';
import { buildModel } from '../model/model.builder.js';
import { builtSurgeryProblems } from '../model/surgery-check.js';
import { AdjustStage } from '../stages/adjust.stage.js';
import { CheckpointStage } from '../stages/checkpoint.stage.js';
import { EvaluateStage } from '../stages/evaluate.stage.js';
import { PreprocessStage } from '../stages/preprocess.stage.js';
import type { RunItem } from '../plugin-api/run-item.js';
import type { Stage, StageRun } from '../plugin-api/stage.js';
import { redactSecrets } from '../pipeline/secret-redaction.js';
import { orderStages } from '../stages/stage-order.js';
import { STAGE_TOKENS } from '../stages/stage-tokens.js';
import { TrainStage } from '../stages/train.stage.js';
import { PipelineError } from '../plugin-api/pipeline-error.js';
import { lossSpecOf } from '../training/task-loss.js';
import { Trainer } from '../training/trainer.js';
import { TrainingControls } from '../training/training-controls.js';
import { earlierExperiences } from './earlier-experiences.js';
import { capturePredictionState } from './prediction-view.js';
import { PulledFeed } from './pulled-feed.js';
import type { AssembledRun } from './run-assembly.js';
import { registerCheckpointables } from './run-components.js';
import { RunFeed } from './run-feed.js';
import { mergeEvaluationTargets, RunLineage } from './run-lineage.js';

/**
 * A regression pipeline needs a source that yields targets, a classification one a source that yields
 * classes: otherwise the run stops before building anything, at `/task` (exit 2). Both run experience
 * by experience or as a stream (a regression stream is scored by prequential MAE/RMSE).
 */
function checkTaskMatchesData(regression: boolean, regressionData: boolean, file: string): void {
  if (regression === regressionData) return;
  throw PipelineError.at(
    '/task',
    regression
      ? 'task "regression" needs a data source with regression targets (e.g. drifting-regression, a csv/jsonl/npy source with targets, or a live source with targetField); this one yields classes'
      : 'the data source yields regression targets: set "task": "regression"',
    file,
  );
}

/** The built-in stages, in their order. */
const BUILTIN_STAGE_CLASSES = [PreprocessStage, AdjustStage, TrainStage, EvaluateStage, CheckpointStage] as const;

/**
 * Runs an assembled run's items through its stages: builds the model, registers every checkpointable
 * part, lets the run's start restore its checkpoint, emits `run-start`, resolves the stages from the
 * run's container and drives `feed$.pipe(...stages)` to its end. Returns the stop reason when a
 * signal stopped the run.
 */
export async function runItems(a: AssembledRun, backend: string): Promise<string | undefined> {
  const { state, bus, start, scope, def, loaded, components: c } = a;
  // What does not carry over is said in the run's history (summary.json `warnings`), after its run-start.
  const notes: string[] = [];
  const note = (message: string): void => void notes.push(message);
  const inputShape = c.transforms.outputShape(state.info);
  checkTaskMatchesData(def.task === 'regression', state.info.regression === true, loaded.file);
  state.model = await buildModel(def.model, {
    inputShape,
    outputs: state.info.numClasses,
    rng: state.rng.derive('model'),
    dropout: a.context.dropout,
    baseDir: loaded.baseDir,
  });
  registerCheckpointables(a.registry, def, c, state, a.optimizer, a.prequential, a.context.dropout);
  // Schedule, validation split and early stopping (restored exactly on resume, carried by --from).
  const controls = scope.provide(STAGE_TOKENS.TrainingControls, new TrainingControls(def, state, a.optimizer));
  controls.checkMode(state.info.experiences === 'endless');
  a.registry.register('/training', controls, { optional: true });
  // The chain of runs this one belongs to (restored by a resume, joined by --from).
  const lineage = new RunLineage(() => ({ name: def.name, pipeline: redactSecrets(def), baseDir: loaded.baseDir }));
  a.registry.register('/run/lineage', lineage, { optional: true, afterExperienceStart: false });
  await start.restore({ def, state, registry: a.registry, context: a.context, lineage, inputShape, note });
  // A loaded file's (or the earlier run's) merges are known only now: refuse chain surgeries before training.
  const surgery = builtSurgeryProblems(def, state.model.network);
  if (surgery.length > 0) throw new PipelineError(surgery, loaded.file);
  // A live (stream) run skips a poisoned batch — counted and warned — instead of failing; a finite run fails loudly.
  scope.provide(
    STAGE_TOKENS.Trainer,
    new Trainer(c.strategies, a.optimizer, {
      skipPoisoned: state.info.experiences === 'endless',
      loss: lossSpecOf(def),
    }),
  );
  scope.provideAll(STAGE_TOKENS.Stage, orderStages(scope.build<Stage>(BUILTIN_STAGE_CLASSES), c.stages));
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
    ...start.announced,
  });
  for (const message of notes.splice(0)) bus.emit({ type: 'warning', message });
  const feed = new RunFeed({
    state,
    control: a.control,
    events: bus,
    training: def.training,
    origin: start,
    ...(a.yieldEveryMs !== undefined ? { yieldEveryMs: a.yieldEveryMs } : {}),
  });
  // The earlier runs' experiences are evaluated too (evaluate-only); this run's own continue their numbering.
  // A finite source's experiences, loaded once: an earlier run with the same data evaluates on them too.
  let ownExperiences: Promise<Experience[]> | undefined;
  const loadOwn = (): Promise<Experience[]> =>
    (ownExperiences ??= lastValueFrom(c.source.experiences().pipe(toArray())));
  const earlier =
    lineage.earlier.length > 0
      ? await earlierExperiences(lineage.earlier, loaded, bus, note, stream ? undefined : loadOwn)
      : { lists: [], sources: [] };
  for (const source of earlier.sources) scope.own('earlier data source', source, async (s) => s.close?.());
  for (const message of notes.splice(0)) bus.emit({ type: 'warning', message });
  let items: AsyncIterable<RunItem>;
  if (stream) {
    // A resumed source was restored to its position (start.restore) before this subscription starts its feed.
    const source = await firstValueFrom(c.source.experiences());
    const first = start.number([source], lineage)[0] ?? source;
    const streamed = start.streamed(first, state);
    state.experiences.push(...mergeEvaluationTargets(streamed, earlier.lists));
    items = feed.stream(first, streamed[streamed.length - 1] ?? first);
  } else {
    const own = start.number(await loadOwn(), lineage);
    state.experiences.push(...mergeEvaluationTargets(own, earlier.lists));
    items = feed.experiences(own);
  }
  const run: StageRun = {
    events: bus,
    outputs: { dir: a.outDir, set: (name, value) => a.recorder.setOutput(name, value) },
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
    memory: () => c.strategies.memory(),
  };
  const operators: OperatorFunction<RunItem, RunItem>[] = scope
    .resolveAll<Stage>(STAGE_TOKENS.Stage)
    .map((stage) => stage.operator(run));
  // The run: feed$.pipe(...stages), closed by the demand that pulls the next item.
  const pulled = new PulledFeed(items);
  const staged = operators.reduce((items$, op) => items$.pipe(op), pulled.items$);
  await lastValueFrom(staged.pipe(pulled.demand()), { defaultValue: undefined });
  return feed.stopped;
}
