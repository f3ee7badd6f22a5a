import { inject, injectable } from 'inversify';
import type { Batch } from '../data/batch.js';
import type { Experience } from '../data/experience.js';
import { EventBus } from '../events/event-bus.js';
import type { EvaluationResult } from '../events/engram-event.js';
import { evaluate, predict } from '../evaluation/evaluator.js';
import { PrequentialAccuracy } from '../metrics/prequential.js';
import type { PipelineDefinition } from '../pipeline/pipeline-definition.js';
import { TOKENS } from '../plugin/tokens.js';
import { RunState } from '../engine/run-state.js';
import type { StrategyChain } from '../training/strategy-chain.js';
import { PreprocessStage } from './preprocess.stage.js';
import { STAGE_TOKENS } from './stage-tokens.js';

/**
 * Stage 4: evaluation. After each experience, accuracy on the test sets of every experience (or of
 * those seen so far); in stream mode, prequential test-then-train accuracy on each incoming batch.
 */
@injectable()
export class EvaluateStage {
  /** Prequential accumulator of stream mode (checkpointed). */
  readonly prequential: PrequentialAccuracy;

  constructor(
    @inject(TOKENS.Settings) private readonly pipeline: PipelineDefinition,
    @inject(TOKENS.EventBus) private readonly events: EventBus,
    @inject(STAGE_TOKENS.RunState) private readonly state: RunState,
    @inject(PreprocessStage) private readonly preprocess: PreprocessStage,
    @inject(STAGE_TOKENS.Strategies) private readonly strategies: StrategyChain,
  ) {
    this.prequential = new PrequentialAccuracy({ window: pipeline.evaluation.window, fading: pipeline.evaluation.fading });
  }

  /** Evaluates after experience `after` (-1 = the untrained model) and emits an `evaluation` event. */
  async afterExperience(after: number, all: readonly Experience[]): Promise<EvaluationResult[]> {
    const settings = this.pipeline.evaluation;
    if (settings.every === 'never') return [];
    const targets = settings.on === 'all' ? all : all.filter((e) => e.index <= after);
    const predictor = this.strategies.predictor({ model: this.state.model, info: this.state.info });
    const results = await evaluate(this.state.model, targets, this.state.info.numClasses, settings.batchSize, (b) => this.preprocess.prepare(b, 'test'), predictor);
    if (results.length > 0) this.events.emit({ type: 'evaluation', afterExperience: after, results });
    return results;
  }

  /**
   * Prequential step on a (preprocessed, test-phase) batch before it is trained on. Returns the
   * per-sample losses (for boundary detection); emits a `prequential` event every `logEvery` calls.
   */
  testThenTrain(batch: Batch, emit: boolean): Float32Array {
    const p = predict(this.state.model, batch, this.strategies.predictor({ model: this.state.model, info: this.state.info }));
    const correct = new Uint8Array(batch.y.length);
    for (let i = 0; i < correct.length; i++) correct[i] = p.predicted[i] === batch.y[i] ? 1 : 0;
    const snap = this.prequential.addBatch(correct, p.losses);
    if (emit) {
      this.events.emit({
        type: 'prequential',
        step: this.state.cursor.step,
        samples: snap.samples,
        accuracy: snap.accuracy,
        windowAccuracy: snap.windowAccuracy,
        fadingAccuracy: snap.fadingAccuracy,
        loss: snap.windowLoss,
      });
    }
    return p.losses;
  }
}
