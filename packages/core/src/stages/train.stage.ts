import { inject, injectable, optional } from 'inversify';
import { lastValueFrom, defaultIfEmpty, take } from 'rxjs';
import type { Batch } from '../data/batch.js';
import type { BatchSource } from '../data/batch-source.js';
import type { Experience } from '../data/experience.js';
import { EventBus } from '../events/event-bus.js';
import { pullThrough } from '../engine/pull-through.js';
import { RunState } from '../engine/run-state.js';
import { RunStopped } from '../engine/run-stopped.js';
import type { PipelineDefinition } from '../pipeline/pipeline-definition.js';
import { TOKENS } from '../plugin/tokens.js';
import type { BoundaryDetector } from '../stream/boundary-detector.js';
import type { ExperienceContext } from '../training/contexts.js';
import type { OptimizerHandle } from '../training/optimizer-handle.js';
import type { StrategyChain } from '../training/strategy-chain.js';
import { Trainer } from '../training/trainer.js';
import { AdjustStage } from './adjust.stage.js';
import { CheckpointStage } from './checkpoint.stage.js';
import { EvaluateStage } from './evaluate.stage.js';
import { PreprocessStage } from './preprocess.stage.js';
import { STAGE_TOKENS } from './stage-tokens.js';

/**
 * Stage 3: regularised training. Drives one experience (epochs of pulled batches) or the endless
 * stream (test-then-train per batch, boundaries from the detector), calling the other stages at their
 * points: preprocess each batch, adjust the model at experience start, evaluate, checkpoint.
 */
@injectable()
export class TrainStage {
  private readonly trainer: Trainer;
  private experienceStart = 0;

  constructor(
    @inject(TOKENS.Settings) private readonly pipeline: PipelineDefinition,
    @inject(TOKENS.EventBus) private readonly events: EventBus,
    @inject(STAGE_TOKENS.RunState) private readonly state: RunState,
    @inject(STAGE_TOKENS.Strategies) private readonly strategies: StrategyChain,
    @inject(STAGE_TOKENS.Optimizer) private readonly optimizer: OptimizerHandle,
    @inject(PreprocessStage) private readonly preprocess: PreprocessStage,
    @inject(AdjustStage) private readonly adjust: AdjustStage,
    @inject(EvaluateStage) private readonly evaluation: EvaluateStage,
    @inject(CheckpointStage) private readonly checkpoints: CheckpointStage,
    @inject(STAGE_TOKENS.Detector) @optional() private readonly detector?: BoundaryDetector,
  ) {
    this.trainer = new Trainer(strategies, optimizer);
  }

  /** The context strategies see at this moment. */
  context(experience: Experience): ExperienceContext {
    const state = this.state;
    return {
      model: state.model,
      experience,
      info: state.info,
      mode: state.info.experiences === 'endless' ? 'stream' : 'experiences',
      batchSize: this.pipeline.training.batchSize,
      rng: state.rng.derive(`experience:${experience.index}`),
      events: this.events,
      step: state.cursor.step,
      gradientsOf: (batch: Batch) => Trainer.gradientsOf(state.model, batch),
      resetOptimizer: () => this.optimizer.reset(),
    };
  }

  /** Experience start: preprocess fitting, adjustments, strategies' set-up; returns the data to train on. */
  async beginExperience(experience: Experience, resumed = false): Promise<BatchSource> {
    const state = this.state;
    for (const c of experience.classes) state.seenClasses.add(c);
    // [resume] a resumed experience already emitted its start before the checkpoint.
    if (!resumed) this.events.emit({ type: 'experience-start', experience: experience.index, classes: [...experience.classes], ...(experience.task !== undefined ? { task: experience.task } : {}), ...(experience.train.size !== undefined ? { trainSize: experience.train.size } : {}) });
    await this.preprocess.beforeExperience(experience);
    state.model = await this.adjust.apply(state.model, { experience, info: state.info, seenClasses: [...state.seenClasses].sort((a, b) => a - b), rng: state.rng.derive(`adjust:${experience.index}`) });
    await this.strategies.beforeExperience(this.context(experience));
    state.model = await this.strategies.adaptModel(this.context(experience));
    const data = (await this.strategies.trainData(this.context(experience))) ?? experience.train;
    await this.optimizer.track(state.model.trainableVariables());
    this.experienceStart = performance.now();
    state.progress.experienceSamples = 0;
    return data;
  }

  /** Experience end: strategies consolidate; emits `experience-end`. */
  async endExperience(experience: Experience): Promise<void> {
    await this.strategies.afterExperience(this.context(experience));
    this.events.emit({ type: 'experience-end', experience: experience.index, samples: this.state.progress.experienceSamples, wallSeconds: (performance.now() - this.experienceStart) / 1000, rssBytes: process.memoryUsage().rss });
  }

  /**
   * Trains one finite experience for the configured epochs, or for `training.iterations` optimizer
   * steps (epochs over the data until the budget is spent, the last one cut short), resuming at the
   * cursor. The steps done so far follow from the cursor (`epoch × batches per epoch + batch`), so a
   * run resumed mid-experience stops after exactly the same step as an uninterrupted one.
   */
  async trainExperience(experience: Experience, data: BatchSource, signal?: AbortSignal): Promise<void> {
    const { batchSize, shuffle, iterations } = this.pipeline.training;
    const cursor = this.state.cursor;
    const batches = data.size !== undefined ? Math.ceil(data.size / batchSize) : undefined;
    if (iterations !== undefined && batches === undefined) throw new Error('training.iterations needs training data of known size; use training.epochs');
    const epochs = iterations !== undefined && batches !== undefined ? (batches > 0 ? Math.ceil(iterations / batches) : 1) : (this.pipeline.training.epochs ?? 1);
    for (let epoch = cursor.epoch; epoch < epochs; epoch++) {
      cursor.epoch = epoch;
      // Batches of this pass: all of them, or what is left of the step budget.
      const limit = iterations !== undefined && batches !== undefined ? Math.min(batches, iterations - epoch * batches) : batches;
      // [resume] totals live in RunState.progress; a pass resumed mid-epoch (cursor.batch > 0) keeps them and its epoch-start.
      const totals = this.state.progress;
      if (cursor.batch === 0) {
        this.events.emit({ type: 'epoch-start', experience: experience.index, epoch, epochs });
        totals.epochLossSum = 0;
        totals.epochCorrect = 0;
        totals.epochSeen = 0;
      }
      const seed = this.state.rng.derive(`data:${experience.index}`).nextUint32();
      const remaining = limit !== undefined ? Math.max(0, limit - cursor.batch) : undefined;
      const pass = data.batches({ batchSize, shuffle, epoch, seed, startBatch: cursor.batch, ...(signal ? { signal } : {}) });
      const steps = pullThrough(pass, async (raw) => {
        await this.trainOne(raw, experience, epoch, limit);
        await this.afterStep(signal);
      });
      // [resume] a pass cut by the step budget stops pulling after its last step (take unsubscribes).
      await lastValueFrom((iterations !== undefined && remaining !== undefined ? steps.pipe(take(remaining)) : steps).pipe(defaultIfEmpty(undefined)));
      cursor.batch = 0;
      this.events.emit({ type: 'epoch-end', experience: experience.index, epoch, loss: totals.epochSeen ? totals.epochLossSum / totals.epochSeen : 0, accuracy: totals.epochSeen ? totals.epochCorrect / totals.epochSeen : 0 });
    }
    cursor.epoch = 0;
  }

  /**
   * Stream mode: pulls batches until the source ends, `maxSamples` is reached or the run is stopped.
   * Each batch is evaluated before it is trained on (prequential); a detected boundary ends the
   * current experience (strategies consolidate) and starts the next.
   *
   * [resume] `first` is the experience the cursor is in (a resumed run passes the one it had reached;
   * the source was restored to the first sample not yet trained on). A run whose checkpoint was written
   * once `maxSamples` had been reached pulls nothing more and only ends its experience.
   */
  async trainStream(first: Experience, data: BatchSource, signal?: AbortSignal): Promise<void> {
    const { batchSize, maxSamples, logEvery } = this.pipeline.training;
    const cursor = this.state.cursor;
    let experience = first;
    if (maxSamples !== undefined && cursor.samples >= maxSamples) {
      await this.endExperience(experience);
      return;
    }
    const stop = new AbortController();
    const seed = this.state.rng.derive('data:stream').nextUint32();
    const pass = data.batches({ batchSize, shuffle: false, epoch: 0, seed, startBatch: cursor.batch, signal: signal ? AbortSignal.any([signal, stop.signal]) : stop.signal });
    await lastValueFrom(
      pullThrough(pass, async (raw) => {
        const testBatch = this.preprocess.prepare(raw, 'test');
        const losses = this.evaluation.testThenTrain(testBatch, cursor.step % logEvery === 0);
        if (this.detector?.update(losses)) {
          this.events.emit({ type: 'boundary', step: cursor.step, reason: this.detector.reason ?? 'detector' });
          await this.endExperience(experience);
          experience = { ...first, index: experience.index + 1, classes: [...this.state.seenClasses] };
          this.state.experiences.push(experience);
          cursor.experience = experience.index;
          await this.beginExperience(experience);
        }
        await this.trainOne(raw, experience, 0, undefined);
        if (maxSamples !== undefined && cursor.samples >= maxSamples) stop.abort();
        await this.afterStep(signal);
      }).pipe(defaultIfEmpty(undefined)),
    );
    await this.endExperience(experience);
  }

  private async trainOne(raw: Batch, experience: Experience, epoch: number, batches: number | undefined): Promise<{ loss: number; correct: number; size: number }> {
    const cursor = this.state.cursor;
    const batch = this.preprocess.prepare(raw, 'train');
    const outputs = this.state.model.outputs();
    for (const label of batch.y) {
      if (label >= outputs) throw new Error(`label ${label} does not fit the model's ${outputs} outputs; add { "kind": "grow-head" } to "adjust" or widen the head`);
    }
    const t0 = performance.now();
    const r = await this.trainer.step(batch, this.context(experience), epoch);
    const dt = (performance.now() - t0) / 1000;
    this.state.trainSeconds += dt;
    const totals = this.state.progress;
    totals.experienceSamples += r.size;
    totals.epochLossSum += r.loss * r.size;
    totals.epochCorrect += r.correct;
    totals.epochSeen += r.size;
    cursor.step++;
    cursor.batch++;
    cursor.samples += r.size;
    const last = batches !== undefined && cursor.batch >= batches;
    if (cursor.batch % this.pipeline.training.logEvery === 0 || last) {
      this.events.emit({
        type: 'batch-end',
        experience: experience.index,
        epoch,
        batch: cursor.batch,
        ...(batches !== undefined ? { batches } : {}),
        step: cursor.step,
        size: r.size,
        loss: r.loss,
        penalty: r.penalty,
        accuracy: r.correct / r.size,
        epochLoss: totals.epochLossSum / totals.epochSeen,
        epochAccuracy: totals.epochCorrect / totals.epochSeen,
        samplesPerSecond: totals.experienceSamples / Math.max(1e-9, (performance.now() - this.experienceStart) / 1000),
      });
    }
    return r;
  }

  private async afterStep(signal: AbortSignal | undefined): Promise<void> {
    await this.checkpoints.afterBatch();
    if (signal?.aborted) {
      await this.checkpoints.save('signal');
      throw new RunStopped(String(signal.reason ?? 'signal'));
    }
  }
}
