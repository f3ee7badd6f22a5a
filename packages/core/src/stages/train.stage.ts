import { inject, injectable } from 'inversify';
import type { OperatorFunction } from 'rxjs';
import type { Batch } from '../data/batch.js';
import type { Experience } from '../data/experience.js';
import { EventBus } from '../events/event-bus.js';
import { RunState, type RunProgress } from '../run/run-state.js';
import type { PipelineDefinition } from '../pipeline/pipeline-definition.js';
import { TOKENS } from '../plugin/tokens.js';
import type { ExperienceContext } from '../plugin-api/contexts.js';
import type { TransformChain } from './transform-chain.js';
import type { OptimizerHandle } from '../training/optimizer-handle.js';
import type { StrategyChain } from '../training/strategy-chain.js';
import { lossSpecOf } from '../training/task-loss.js';
import { Trainer } from '../training/trainer.js';
import type { TrainingControls } from '../training/training-controls.js';
import { eachItem } from './each-item.js';
import type { BatchItem, ExperienceStartItem, RunItem } from '../plugin-api/run-item.js';
import type { Stage } from '../plugin-api/stage.js';
import { STAGE_TOKENS } from './stage-tokens.js';

/**
 * Stage `train`: regularised training. At `experience-start` the strategies set up
 * (`beforeExperience`, `adaptModel`, `trainData` — which may replace the item's `data`) and the
 * optimizer follows the model's variables; each `batch` is one optimizer step (strategy hooks
 * around forward / loss / backward / update) that advances the cursor; `epoch-start`/`epoch-end`
 * and `experience-end` (strategies consolidate: `afterExperience`) emit their events. The run's
 * {@link TrainingControls} set the scheduled rate before each step, split off the validation part
 * at the start and measure it (and decide early stopping) at each epoch's end.
 */
@injectable()
export class TrainStage implements Stage {
  readonly name = 'train';
  private experienceStart = 0;
  private poisonedWarned = false;

  constructor(
    @inject(TOKENS.Settings) private readonly pipeline: PipelineDefinition,
    @inject(TOKENS.EventBus) private readonly events: EventBus,
    @inject(STAGE_TOKENS.RunState) private readonly state: RunState,
    @inject(STAGE_TOKENS.Strategies) private readonly strategies: StrategyChain,
    @inject(STAGE_TOKENS.Optimizer) private readonly optimizer: OptimizerHandle,
    @inject(STAGE_TOKENS.Trainer) private readonly trainer: Trainer,
    @inject(STAGE_TOKENS.TrainingControls) private readonly controls: TrainingControls,
    @inject(STAGE_TOKENS.Transforms) private readonly preprocess: TransformChain,
  ) {}

  operator(): OperatorFunction<RunItem, RunItem> {
    return eachItem((item) => {
      switch (item.kind) {
        case 'experience-start':
          return this.beginExperience(item);
        case 'epoch-start': {
          this.events.emit({
            type: 'epoch-start',
            experience: item.experience.index,
            epoch: item.epoch,
            epochs: item.epochs,
          });
          const totals = this.state.progress;
          totals.epochLossSum = 0;
          totals.epochCorrect = 0;
          totals.epochSeen = 0;
          if (totals.epochTargets !== undefined) totals.epochAbsoluteError = totals.epochTargets = 0;
          return undefined;
        }
        case 'batch':
          return this.trainOne(item);
        case 'epoch-end': {
          const totals = this.state.progress;
          const report = this.controls.endEpoch(item.epoch);
          this.events.emit({
            type: 'epoch-end',
            experience: item.experience.index,
            epoch: item.epoch,
            loss: totals.epochSeen ? totals.epochLossSum / totals.epochSeen : 0,
            accuracy: totals.epochSeen ? totals.epochCorrect / totals.epochSeen : 0,
            ...epochMae(totals, 'mae'),
            ...report,
          });
          return undefined;
        }
        case 'experience-end':
          return this.endExperience(item.experience);
        default:
          return undefined;
      }
    });
  }

  /** The context strategies see at this moment. */
  private context(experience: Experience): ExperienceContext {
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
      gradientsOf: (batch: Batch) => Trainer.gradientsOf(state.model, batch, lossSpecOf(this.pipeline)),
      resetOptimizer: () => this.optimizer.reset(),
      prepare: (batch: Batch) => this.preprocess.prepare(batch, 'test'),
    };
  }

  private async beginExperience(item: ExperienceStartItem): Promise<void> {
    const state = this.state;
    const experience = item.experience;
    await this.strategies.beforeExperience(this.context(experience));
    state.model = await this.strategies.adaptModel(this.context(experience));
    item.data = (await this.strategies.trainData(this.context(experience))) ?? item.data;
    item.data = await this.controls.beginExperience(experience.index, item.data, item.resumed);
    await this.optimizer.track(state.model.trainableVariables());
    this.experienceStart = performance.now();
    state.progress.experienceSamples = 0;
  }

  private async endExperience(experience: Experience): Promise<void> {
    this.controls.endExperience();
    await this.strategies.afterExperience(this.context(experience));
    this.events.emit({
      type: 'experience-end',
      experience: experience.index,
      samples: this.state.progress.experienceSamples,
      wallSeconds: (performance.now() - this.experienceStart) / 1000,
      rssBytes: process.memoryUsage().rss,
    });
  }

  /**
   * A live run's batch whose loss was unusable was skipped by the trainer (weights unchanged): its records
   * count as consumed (the stream moves on), a `poisoned-batch` event counts it, the first one also warns.
   */
  private skipPoisoned(item: BatchItem, reason: string, loss: number, records: number): void {
    this.state.position.advance(records, records);
    this.events.emit({
      type: 'poisoned-batch',
      experience: item.experience.index,
      step: this.state.cursor.step,
      loss: Number.isFinite(loss) ? loss : null,
      records,
    });
    if (this.poisonedWarned) return;
    this.poisonedWarned = true;
    this.events.emit({
      type: 'warning',
      message: `${reason}; later poisoned batches are skipped too and counted in summary.json's poisonedBatches`,
    });
  }

  private async trainOne(item: BatchItem): Promise<void> {
    const { batch, experience, epoch, batches } = item;
    const cursor = this.state.cursor;
    const outputs = this.state.model.outputs();
    for (const label of batch.y) {
      if (label >= outputs)
        throw new Error(
          `label ${label} does not fit the model's ${outputs} outputs; add { "kind": "grow-head" } to "adjust" or widen the head`,
        );
    }
    const t0 = performance.now();
    this.controls.beforeStep();
    const r = await this.trainer.step(batch, this.context(experience), epoch);
    this.controls.afterStep();
    this.state.trainSeconds += (performance.now() - t0) / 1000;
    if (r.poisoned !== undefined) {
      this.skipPoisoned(item, r.poisoned, r.loss, r.records);
      return;
    }
    const totals = this.state.progress;
    totals.experienceSamples += r.records;
    totals.epochLossSum += r.loss * r.size;
    totals.epochCorrect += r.correct;
    totals.epochSeen += r.size;
    if (r.absoluteError) {
      totals.epochAbsoluteError = (totals.epochAbsoluteError ?? 0) + r.absoluteError.sum;
      totals.epochTargets = (totals.epochTargets ?? 0) + r.absoluteError.count;
    }
    this.state.position.advance(r.records, r.size);
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
        ...epochMae(totals, 'epochMae'),
        samplesPerSecond: totals.experienceSamples / Math.max(1e-9, (performance.now() - this.experienceStart) / 1000),
      });
    }
  }
}

/** `{ [key]: running training MAE }` of a regression epoch (nothing for a classification one). */
function epochMae<K extends string>(totals: RunProgress, key: K): Partial<Record<K, number>> {
  const n = totals.epochTargets ?? 0;
  return n > 0 ? ({ [key]: (totals.epochAbsoluteError ?? 0) / n } as Partial<Record<K, number>>) : {};
}
