import { lossSpecOf } from '../training/task-loss.js';
import { inject, injectable, optional } from 'inversify';
import type { OperatorFunction } from 'rxjs';
import type { Batch } from '../data/batch.js';
import { EventBus } from '../events/event-bus.js';
import type { EvaluationResult } from '../events/engram-event.js';
import { evaluate, predict } from '../evaluation/evaluator.js';
import { RunControl } from '../run/run-control.js';
import { RunState } from '../run/run-state.js';
import { prequentialEvent } from '../metrics/final-prequential.js';
import { PrequentialAccuracy } from '../metrics/prequential.js';
import type { PipelineDefinition } from '../pipeline/pipeline-definition.js';
import { TOKENS } from '../plugin/tokens.js';
import type { BoundaryDetector } from '../plugin-api/boundary-detector.js';
import type { PredictorContext } from '../plugin-api/contexts.js';
import type { StrategyChain } from '../training/strategy-chain.js';
import { eachItem } from './each-item.js';
import type { RunItem } from '../plugin-api/run-item.js';
import type { Stage } from '../plugin-api/stage.js';
import { STAGE_TOKENS } from './stage-tokens.js';
import type { TransformChain } from './transform-chain.js';

/**
 * Stage `evaluate`. `run-start` of a fresh finite run: the untrained model on every test set (for
 * FWT, `evaluation.initial`). `experience-end` (not a stream boundary): accuracy on the test sets of
 * every experience (or those seen so far). Stream `test` items: prequential test-then-train accuracy
 * (a regression run: prequential MAE/RMSE) on the batch before it is trained on, and the `boundary` detector fed with its per-sample losses; a
 * detected boundary emits a `boundary` event and asks the feed to end the experience first.
 */
@injectable()
export class EvaluateStage implements Stage {
  readonly name = 'evaluate';

  constructor(
    @inject(TOKENS.Settings) private readonly pipeline: PipelineDefinition,
    @inject(TOKENS.EventBus) private readonly events: EventBus,
    @inject(STAGE_TOKENS.RunState) private readonly state: RunState,
    @inject(STAGE_TOKENS.Control) private readonly control: RunControl,
    @inject(STAGE_TOKENS.Prequential) private readonly prequential: PrequentialAccuracy,
    @inject(STAGE_TOKENS.Transforms) private readonly preprocess: TransformChain,
    @inject(STAGE_TOKENS.Strategies) private readonly strategies: StrategyChain,
    @inject(STAGE_TOKENS.Detector) @optional() private readonly detector?: BoundaryDetector,
  ) {}

  operator(): OperatorFunction<RunItem, RunItem> {
    return eachItem((item) => {
      switch (item.kind) {
        case 'run-start': {
          const s = this.pipeline.evaluation;
          const finite = this.state.info.experiences !== 'endless';
          return !item.resumed && !item.continued && finite && s.initial && s.on === 'all'
            ? this.afterExperience(-1).then(() => undefined)
            : undefined;
        }
        case 'test':
          item.boundary = this.testThenTrain(item.batch);
          return undefined;
        case 'experience-end':
          return item.boundary ? undefined : this.afterExperience(item.experience.index).then(() => undefined);
        default:
          return undefined;
      }
    });
  }

  /** What a strategy's predictor may read: the model now, and the test-phase preprocessing. */
  private predictorContext(): PredictorContext {
    return {
      model: this.state.model,
      info: this.state.info,
      prepare: (b: Batch) => this.preprocess.prepare(b, 'test'),
    };
  }

  /** Evaluates after experience `after` (-1 = the untrained model) and emits an `evaluation` event. */
  async afterExperience(after: number): Promise<EvaluationResult[]> {
    const settings = this.pipeline.evaluation;
    if (settings.every === 'never') return [];
    const all = this.state.experiences;
    const targets = settings.on === 'all' ? all : all.filter((e) => e.index <= after);
    // A strategy may replace the softmax head's arg-max (iCaRL's nearest-mean-of-exemplars).
    const predictor = this.strategies.predictor(this.predictorContext());
    // A serving run evaluates in pieces no larger than a training batch and turns the event loop
    // between them (results do not depend on the evaluation batch size: every row is scored alone).
    const turns = this.control.turns;
    const batchSize = turns ? Math.min(settings.batchSize, turns.maxRows) : settings.batchSize;
    const between = turns ? () => turns.breathe() : undefined;
    const results = await evaluate(
      this.state.model,
      targets,
      this.state.info.numClasses,
      batchSize,
      (b) => this.preprocess.prepare(b, 'test'),
      predictor,
      between,
      lossSpecOf(this.pipeline),
    );
    if (results.length > 0) this.events.emit({ type: 'evaluation', afterExperience: after, results });
    return results;
  }

  /**
   * Prequential step on a (preprocessed, test-phase) batch before it is trained on; emits a
   * `prequential` event every `training.logEvery` steps and feeds the boundary detector. Returns the
   * boundary's reason when the detector found one (the test item carries it back to the feed).
   */
  private testThenTrain(batch: Batch): string | undefined {
    const cursor = this.state.cursor;
    const values = batch.targetValues;
    const p = predict(
      this.state.model,
      batch,
      this.strategies.predictor(this.predictorContext()),
      lossSpecOf(this.pipeline),
    );
    // A regression batch has no classes: its accuracy stays 0 and its errors are recorded instead.
    const correct = new Uint8Array(batch.y.length);
    if (!values) for (let i = 0; i < correct.length; i++) correct[i] = p.predicted[i] === batch.y[i] ? 1 : 0;
    if (values) this.prequential.addErrors(p.outputs ?? [], values, batch.y.length);
    const snap = this.prequential.addBatch(correct, p.losses);
    if (cursor.step % this.pipeline.training.logEvery === 0) this.events.emit(prequentialEvent(cursor.step, snap));
    if (this.detector?.update(p.losses)) {
      const reason = this.detector.reason ?? 'detector';
      this.events.emit({ type: 'boundary', step: cursor.step, reason });
      return reason;
    }
    return undefined;
  }
}
