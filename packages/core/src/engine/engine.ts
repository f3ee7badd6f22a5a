import { resolve } from 'node:path';
import { Container } from 'inversify';
import { concatMap, defaultIfEmpty, defer, from, lastValueFrom, toArray, firstValueFrom } from 'rxjs';
import { selectBackend } from '../backend/backend.selector.js';
import { CheckpointStore } from '../checkpoint/checkpoint.store.js';
import { EventHistory } from '../checkpoint/event-history.js';
import { captureSnapshot } from '../checkpoint/run-snapshot.js';
import type { DataSource } from '../data/data-source.js';
import type { Experience } from '../data/experience.js';
import { EventBus } from '../events/event-bus.js';
import type { RunLogger } from '../logging/run-logger.js';
import { emitFinalPrequential } from '../metrics/final-prequential.js';
import { RUN_FILES, RunRecorder } from '../metrics/run-recorder.js';
import type { Adjustment } from '../model/adjustment.js';
import { buildModel } from '../model/model.builder.js';
import { seedDropout } from '../model/seeded-dropout.layer.js';
import type { LoadedPipeline } from '../pipeline/pipeline.loader.js';
import type { ComponentRef } from '../plugin/component-factory.js';
import { componentMaker } from './component-maker.js';
import { TOKENS } from '../plugin/tokens.js';
import type { Transform } from '../preprocess/transform.js';
import { Rng } from '../random/rng.js';
import { AdjustStage } from '../stages/adjust.stage.js';
import { CheckpointStage } from '../stages/checkpoint.stage.js';
import type { CheckpointWriter } from '../stages/checkpoint-writer.js';
import { EvaluateStage } from '../stages/evaluate.stage.js';
import { PreprocessStage } from '../stages/preprocess.stage.js';
import { STAGE_TOKENS } from '../stages/stage-tokens.js';
import { TrainStage } from '../stages/train.stage.js';
import type { BoundaryDetector } from '../stream/boundary-detector.js';
import { OptimizerHandle } from '../training/optimizer-handle.js';
import type { Strategy } from '../training/strategy.js';
import { StrategyChain } from '../training/strategy-chain.js';
import type { RunOptions, RunOutcome } from './run-options.js';
import { RunState } from './run-state.js';
import { RunStopped } from './run-stopped.js';
import { loadResumePoint, restoreAfterExperienceStart, restoreRun, type ResumePoint, type RestoreTargets } from './resume.js';

/**
 * [resume] The experiences a stream run had started before its checkpoint: the source's endless
 * experience 0, then one per boundary crossed (as `TrainStage.trainStream` creates them).
 */
function resumedStream(first: Experience, current: number, seenClasses: ReadonlySet<number>): Experience[] {
  return Array.from({ length: current + 1 }, (_, i) => (i === 0 ? first : { ...first, index: i, classes: [...seenClasses] }));
}

/**
 * Runs a loaded pipeline end to end: backend, components, model, then experience after experience
 * (or the endless stream) through the DI-resolved stages preprocess → adjust → train → evaluate →
 * checkpoint, recording every event to `metrics.jsonl` and the summary to `summary.json`.
 */
export async function runPipeline(loaded: LoadedPipeline, options: RunOptions = {}): Promise<RunOutcome> {
  const def = loaded.definition;
  const outDir = resolve(options.outDir ?? (def.output.dir ? resolve(loaded.baseDir, def.output.dir) : `runs/${def.name}`));
  const backend = await selectBackend(options.backend ?? def.backend);
  const rootRng = new Rng(def.seed);
  seedDropout(rootRng.derive('dropout'));
  const bus = new EventBus();
  const make = componentMaker(loaded, rootRng, bus);
  const source = make<DataSource>('dataset', def.data, '/data');
  const transforms = def.preprocess.map((r, i) => make<Transform>('transform', r, `/preprocess/${i}`));
  const adjustments = def.adjust.map((r, i) => make<Adjustment>('adjust', r, `/adjust/${i}`));
  const strategyRefs = Array.isArray(def.strategy) ? (def.strategy as readonly ComponentRef[]) : [def.strategy as ComponentRef];
  const strategies = new StrategyChain(strategyRefs.map((r, i) => make<Strategy>('strategy', r, Array.isArray(def.strategy) ? `/strategy/${i}` : '/strategy')));
  const detector = def.boundary ? make<BoundaryDetector>('detector', def.boundary, '/boundary') : undefined;
  const loggers = def.loggers.map((r, i) => make<RunLogger>('logger', r, `/loggers/${i}`));
  const optimizer = new OptimizerHandle(def.optimizer);
  const state = new RunState(rootRng);
  const container = new Container({ defaultScope: 'Singleton' });
  try {
    state.info = await source.describe();
    const store = new CheckpointStore(def.checkpoint.dir ? resolve(loaded.baseDir, def.checkpoint.dir) : resolve(outDir, 'checkpoints'), def.checkpoint.keep, options.version ?? '0.0.0');
    container.bind(TOKENS.Settings).toConstantValue(def);
    container.bind(TOKENS.EventBus).toConstantValue(bus);
    container.bind(STAGE_TOKENS.RunState).toConstantValue(state);
    container.bind(STAGE_TOKENS.Transforms).toConstantValue(transforms);
    container.bind(STAGE_TOKENS.Adjustments).toConstantValue(adjustments);
    container.bind(STAGE_TOKENS.Strategies).toConstantValue(strategies);
    container.bind(STAGE_TOKENS.Optimizer).toConstantValue(optimizer);
    if (detector) container.bind(STAGE_TOKENS.Detector).toConstantValue(detector);
    container.bind(PreprocessStage).toSelf();
    container.bind(AdjustStage).toSelf();
    container.bind(EvaluateStage).toSelf();
    container.bind(CheckpointStage).toSelf();
    container.bind(TrainStage).toSelf();
    let history = new EventHistory(); // [resume] numbering of the events after a resume
    const recorder = new RunRecorder(outDir, { name: def.name, seed: def.seed, strategies: strategies.names, scenario: state.info.scenario, backend: backend.description, pipeline: def });
    const writer: CheckpointWriter = {
      save: async (reason) => {
        // The metric history stays in metrics.jsonl; the checkpoint records how much of it is on disk.
        const metrics = await recorder.flush();
        const sourceState = source.state?.();
        const files = await captureSnapshot({ pipeline: def, state, optimizer, strategies, transforms, adjustments, source, prequential: evaluation.prequential, ...(detector ? { detector } : {}), reason, metrics });
        const { dir, bytes } = await store.write(state.cursor.step, files);
        if (source.checkpointed) {
          try {
            await source.checkpointed(sourceState);
          } catch (e) {
            bus.emit({ type: 'warning', message: `data source could not acknowledge checkpoint ${dir}: ${(e as Error).message}` });
          }
        }
        return { path: dir, bytes };
      },
    };
    container.bind(STAGE_TOKENS.CheckpointWriter).toConstantValue(writer);
    const preprocess = container.get(PreprocessStage);
    const evaluation = container.get(EvaluateStage);
    const checkpoints = container.get(CheckpointStage);
    const train = container.get(TrainStage);

    state.model = await buildModel(def.model, { inputShape: preprocess.outputShape(state.info), outputs: state.info.numClasses, rng: rootRng.derive('model'), baseDir: loaded.baseDir });
    // [resume] restore from the newest valid checkpoint (engine/resume.ts)
    const targets: RestoreTargets = { state, optimizer, strategies, transforms, adjustments, source, prequential: evaluation.prequential, ...(detector ? { detector } : {}) };
    let resume: ResumePoint | undefined;
    if (options.resume) {
      resume = await loadResumePoint(store, def, resolve(outDir, RUN_FILES.metrics), options.warn ?? ((m) => process.stderr.write(`warning: ${m}\n`)));
      options.onResume?.({ dir: resume.dir, step: resume.step, reason: resume.reason }); // [hardening] say where the run restarts
      await restoreRun(resume, targets);
      history = new EventHistory(resume.events);
    }
    recorder.attach(history.attach(bus.events$)); // [resume] past events + live ones
    options.observe?.(bus.events$);
    for (const l of loggers) l.attach(bus.events$, outDir);
    const stream = state.info.experiences === 'endless';
    bus.emit({
      type: 'run-start', name: def.name, seed: def.seed, backend: backend.description, mode: stream ? 'stream' : 'experiences', experiences: state.info.experiences,
      scenario: state.info.scenario, strategies: strategies.names, inputShape: preprocess.outputShape(state.info), numClasses: state.info.numClasses,
      parameters: state.model.network.countParams(),
    });
    const t0 = performance.now();
    let stopped: string | undefined;
    try {
      if (stream) {
        // [resume] the source was restored to its position (restoreRun) before this subscription starts its feed.
        const first = await firstValueFrom(source.experiences());
        const streamed = resume ? resumedStream(first, state.cursor.experience, state.seenClasses) : [first];
        state.experiences.push(...streamed);
        const current = streamed[streamed.length - 1] ?? first;
        if (resume?.experience !== Infinity) {
          const data = await train.beginExperience(current, resume !== undefined);
          if (resume) await restoreAfterExperienceStart(resume, targets); // [resume] boundaries crossed stay crossed
          await train.trainStream(current, data, options.signal);
          await evaluation.afterExperience(state.cursor.experience, state.experiences);
          await checkpoints.save('end');
        }
      } else {
        const all = await lastValueFrom(source.experiences().pipe(toArray()));
        state.experiences.push(...all);
        if (!resume && def.evaluation.initial && def.evaluation.on === 'all') await evaluation.afterExperience(-1, all);
        await lastValueFrom(
          from(all).pipe(
            concatMap((exp: Experience) =>
              defer(async () => {
                if (resume && exp.index < resume.experience) return; // [resume] finished before the checkpoint
                const resumed = resume?.midExperience === true && exp.index === resume.experience;
                state.cursor.experience = exp.index;
                const data = await train.beginExperience(exp, resumed);
                if (resume && resumed) await restoreAfterExperienceStart(resume, targets); // [resume]
                await train.trainExperience(exp, data, options.signal);
                await train.endExperience(exp);
                await evaluation.afterExperience(exp.index, all);
                await checkpoints.afterExperience();
              }),
            ),
            defaultIfEmpty(undefined),
          ),
        );
      }
    } catch (e) {
      if (!(e instanceof RunStopped)) throw e;
      stopped = e.reason;
    }
    if (stream) emitFinalPrequential(bus, evaluation.prequential, state.cursor.step); // [hardening] summary.prequential covers every sample
    const wallSeconds = (performance.now() - t0) / 1000;
    bus.emit({ type: 'run-end', wallSeconds, samplesPerSecond: state.cursor.samples / Math.max(1e-9, state.trainSeconds), steps: state.cursor.step, ...(stopped ? { stopped } : {}) });
    bus.complete();
    const summary = await recorder.finish();
    for (const l of loggers) await l.close?.();
    return { summary, backend, outDir, ...(stopped ? { stopped } : {}) };
  } finally {
    await source.close?.();
    strategies.dispose();
    optimizer.dispose();
    (state.model as typeof state.model | undefined)?.dispose();
    container.unbindAll();
  }
}
