import * as tf from '@tensorflow/tfjs';
import type { Checkpointable } from '../plugin-api/checkpointable.js';
import type { Batch } from '../data/batch.js';
import type { BatchSource } from '../data/batch-source.js';
import type { EngramModel } from '../plugin-api/engram-model.js';
import type { PipelineDefinition } from '../pipeline/pipeline-definition.js';
import type { Rng } from '../random/rng.js';
import { PipelineError } from '../plugin-api/pipeline-error.js';
import { trainingControlProblems } from './controls-check.js';
import type { JsonValue, SerializedState, StateArray } from '../plugin-api/serialized-state.js';
import { freshEarlyStopping, observeEpoch, type EarlyStoppingState } from './early-stopping.js';
import { learningRateAt, resolvePeriod, scheduleTime, zeroCounters, type ScheduleCounters } from './lr-schedule.js';
import type { OptimizerHandle } from './optimizer-handle.js';
import { measureClassification, splitForValidation } from './validation-split.js';

/** What an epoch's end adds to its `epoch-end` event. */
export interface EpochReport {
  learningRate?: number;
  validationLoss?: number;
  validationAccuracy?: number;
  stoppedEarly?: boolean;
}

interface ControlsMeta {
  counters: ScheduleCounters;
  stopping: EarlyStoppingState;
  stopExperience: boolean;
  bestNames: string[];
}

/** What the controls read and set of the run's state (`RunState` has them). */
export interface ControlledRun {
  readonly model: EngramModel;
  readonly rng: Rng;
  /** Set by early stopping: the feed skips the current experience's remaining epochs. */
  stopExperience: boolean;
}

/**
 * The run's training controls around the plain loop: the learning-rate schedule (set before every
 * step), the validation split of each experience and early stopping. Checkpointed under `/training`
 * (counters, early stopping, the best weights when kept), so a resumed or `--from` run continues the
 * same schedule. Called by the train stage only; with no control configured every hook returns at once.
 */
export class TrainingControls implements Checkpointable {
  private counters = zeroCounters();
  private stopping = freshEarlyStopping();
  private validation: Batch | undefined;
  private best: Map<string, StateArray> | undefined;
  private readonly period: number;

  constructor(
    private readonly def: PipelineDefinition,
    private readonly run: ControlledRun,
    private readonly optimizer: OptimizerHandle,
  ) {
    const problems = trainingControlProblems(def);
    if (problems.length > 0) throw new PipelineError(problems);
    const schedule = def.optimizer.schedule;
    const period = schedule ? resolvePeriod(schedule, def.training) : 1;
    this.period = typeof period === 'number' ? period : 1;
  }

  /** Refuses controls a stream run cannot have (no epochs there). Called once the stream is known. */
  checkMode(stream: boolean): void {
    if (!stream) return;
    if (this.def.training.validation)
      throw PipelineError.at('/training/validation', 'a stream run has no epochs to validate; remove it');
    const schedule = this.def.optimizer.schedule;
    if (schedule && (schedule.interval ?? 'epoch') === 'epoch')
      throw PipelineError.at('/optimizer/schedule/interval', 'a stream run has no epochs: use "interval": "step"');
  }

  /**
   * At an experience's start (after the strategies chose its data): a fresh experience resets the
   * per-experience counters and early stopping (a resumed one gets them from the checkpoint right
   * after); with validation, returns the training part of `data` (the held-out part is kept here).
   */
  async beginExperience(experience: number, data: BatchSource, resumed: boolean): Promise<BatchSource> {
    if (!resumed) {
      this.counters.experienceSteps = 0;
      this.counters.experienceEpochs = 0;
      this.stopping = freshEarlyStopping();
      this.best = undefined;
      this.run.stopExperience = false;
    }
    const validation = this.def.training.validation;
    if (!validation) return data;
    const seed = this.run.rng.derive(`validation:${experience}`).nextUint32();
    const split = await splitForValidation(data, validation.fraction, seed);
    this.validation = split.validation;
    return split.train;
  }

  /** Before each optimizer step: the scheduled learning rate. */
  beforeStep(): void {
    const schedule = this.def.optimizer.schedule;
    if (!schedule) return;
    const t = scheduleTime(schedule, this.counters);
    this.optimizer.setLearningRate(learningRateAt(schedule, this.optimizer.baseLearningRate, t, this.period));
  }

  /** After each optimizer step. */
  afterStep(): void {
    this.counters.runSteps++;
    this.counters.experienceSteps++;
  }

  /**
   * At an epoch's end: counts it, measures the validation part and runs early stopping — which sets
   * `RunState.stopExperience` so the feed skips the experience's remaining epochs.
   */
  endEpoch(epoch: number): EpochReport {
    this.counters.runEpochs++;
    this.counters.experienceEpochs++;
    const report: EpochReport = this.def.optimizer.schedule ? { learningRate: this.optimizer.learningRate } : {};
    const validation = this.def.training.validation;
    if (!validation || !this.validation) return report;
    const m = measureClassification(this.run.model, this.validation, this.def.evaluation.batchSize);
    report.validationLoss = m.loss;
    report.validationAccuracy = m.accuracy;
    const early = validation.earlyStopping;
    if (!early) return report;
    const value = early.metric === 'accuracy' ? m.accuracy : m.loss;
    const verdict = observeEpoch(early, this.stopping, epoch, value);
    if (verdict === 'improved' && early.restoreBest === true) this.best = this.snapshot();
    if (verdict === 'stop') {
      this.run.stopExperience = true;
      report.stoppedEarly = true;
    }
    return report;
  }

  /**
   * At an experience's end, before the strategies consolidate: with `restoreBest`, puts back the best
   * epoch's weights when a later epoch was worse; drops the held-out data.
   */
  endExperience(): void {
    const kept = this.best;
    if (kept && this.stopping.bestEpoch !== this.counters.experienceEpochs - 1) {
      for (const v of this.run.model.trainableVariables()) {
        const a = kept.get(v.name);
        if (a && a.data.length === v.size) tf.tidy(() => v.assign(tf.tensor(a.data, v.shape, v.dtype)));
      }
    }
    this.best = undefined;
    this.validation = undefined;
  }

  private snapshot(): Map<string, StateArray> {
    const out = new Map<string, StateArray>();
    for (const v of this.run.model.trainableVariables())
      out.set(v.name, { dtype: 'float32', shape: v.shape, data: Float32Array.from(v.dataSync()) });
    return out;
  }

  state(): SerializedState {
    const best = [...(this.best ?? new Map<string, StateArray>()).entries()];
    const meta: ControlsMeta = {
      counters: { ...this.counters },
      stopping: { ...this.stopping },
      stopExperience: this.run.stopExperience,
      bestNames: best.map(([name]) => name),
    };
    const arrays: Record<string, StateArray> = {};
    best.forEach(([, a], i) => (arrays[`best:${i}`] = a));
    return { meta: meta as unknown as JsonValue, arrays };
  }

  restore(s: SerializedState): void {
    const m = s.meta as unknown as ControlsMeta | null;
    if (!m) return;
    this.counters = { ...m.counters };
    this.stopping = { ...m.stopping };
    this.run.stopExperience = m.stopExperience;
    if (m.bestNames.length === 0) this.best = undefined;
    else {
      this.best = new Map();
      m.bestNames.forEach((name, i) => {
        const a = s.arrays?.[`best:${i}`];
        if (a) this.best?.set(name, { dtype: 'float32', shape: [...a.shape], data: Float32Array.from(a.data) });
      });
    }
  }
}
