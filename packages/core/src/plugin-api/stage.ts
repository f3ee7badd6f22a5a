import type { OperatorFunction } from 'rxjs';
import type { StreamInfo } from '../data/experience.js';
import type { EventSink } from '../events/event-sink.js';
import type { RunCursor } from './run-cursor.js';
import type { Batch } from '../data/batch.js';
import type { EngramModel } from './engram-model.js';
import type { JsonValue, SerializedState } from './serialized-state.js';
import type { RunItem } from './run-item.js';

/**
 * One step of a run: an RxJS operator over the run's {@link RunItem}s. The run is
 *
 *     feed$.pipe(preprocess, adjust, train, evaluate, checkpoint, …plugin stages where declared)
 *
 * where `feed$` pulls one item at a time from the data and waits until that item has left the
 * last stage before it pulls the next (pull-based backpressure: a source faster than training waits,
 * memory stays flat). Stages are resolved from the run's inversify container (multi-injection of
 * `STAGE_TOKENS.Stage`) in the pipeline's order; no stage knows another.
 *
 * Contract of `operator(run)` (called once per run, before the first item):
 * - pass every item on, in order, exactly once — after the work it does for it (see
 *   {@link eachItem}, which does that for a per-item handler). An item a stage keeps back stalls
 *   the run, because the next item is pulled only when this one leaves the last stage.
 * - transform by replacing an item's `batch` (or an `experience-start`'s `data`) in place, or by
 *   emitting a copy that keeps its `seq`.
 * - do not subscribe to anything that outlives the run; an error ends the run as `failed`.
 */
export interface Stage {
  /** Name used in positions (`"after": "train"`) and messages: the built-ins' names, or a plugin stage's `kind`. */
  readonly name: string;
  operator(run: StageRun): OperatorFunction<RunItem, RunItem>;
}

/** Names of the built-in stages, in their order. */
export const BUILTIN_STAGES = ['preprocess', 'adjust', 'train', 'evaluate', 'checkpoint'] as const;

/** What a stage may use of its run besides the items. */
export interface StageRun {
  /** The run's event sink (a stage's own events: `warning`s, custom figures in existing event types). */
  readonly events: EventSink;
  /** The run's outputs: its folder and named values written into summary.json. */
  readonly outputs: RunOutputs;
  /** The data's description (input shape, classes, experiences). */
  readonly info: StreamInfo;
  /** Where the run is (read only). */
  readonly cursor: Readonly<RunCursor>;
  /**
   * The model being trained, as it is now (a strategy or adjustment may replace it at an experience
   * start: call this per item, do not keep the result). Read only: a stage that is not about training
   * must not change its weights; read them between items (inside a handler), never across an `await`,
   * so it never sees a half-applied optimizer step. Serving copies its weights from here.
   */
  model(): EngramModel;
  /** Applies the pipeline's `preprocess` transforms (test phase, current fitted statistics) to raw inputs. */
  preprocess(batch: Batch): Batch;
  /**
   * Copies of the states predictions depend on besides the weights — fitted preprocessing, adjustments
   * with `forEvaluation`, strategies with `predictor` / `forEvaluation` — by checkpoint pointer (see
   * `buildPredictionView`). Read them in the same handler as the weights (serving publishes both).
   */
  predictionState(): Promise<ReadonlyMap<string, SerializedState>>;
  /**
   * The strategies' replay memory now (`Strategy.memory`: preprocessed rows as trained on), or
   * undefined when no strategy keeps one. Copies; read between items. Serving's gates score on it.
   */
  memory?(): Batch | undefined;
}

/** Named results of a run, beside its metrics. */
export interface RunOutputs {
  /** The run's output folder (exists once the run has started); a stage may write its own files there. */
  readonly dir: string;
  /** Records `value` under `name` in summary.json's `outputs` (the last value set wins). */
  set(name: string, value: JsonValue): void;
}
