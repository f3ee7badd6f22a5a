import type { BatchSource } from './batch-source.js';

/**
 * One experience of a continual-learning stream: a training set that arrives at once (or, for live
 * streams, never ends) with the test set that measures it.
 */
export interface Experience {
  /** 0-based position in the stream. */
  readonly index: number;
  /** Human-readable name, e.g. `digits 0-1`. */
  readonly name?: string;
  /** Classes that occur in this experience's training data. */
  readonly classes: readonly number[];
  /** Task label for task-incremental scenarios. */
  readonly task?: number;
  /** Training data, pulled batch by batch. */
  readonly train: BatchSource;
  /** Held-out data of this experience; evaluation keeps it for all later experiences. */
  readonly test?: BatchSource;
  /**
   * Only its test set is used: the run does not train on it, but evaluates on it like on any other
   * experience (a scenario's `only` range leaves the others this way, and `--from` adds an earlier
   * run's experiences this way). The engine never starts it.
   */
  readonly evaluateOnly?: boolean;
}

/** What a data source knows about its stream before the first batch. */
export interface StreamInfo {
  /** Shape of one input sample, e.g. `[28, 28, 1]`. */
  readonly inputShape: readonly number[];
  /** Number of classes over the whole stream (the size of a full classifier head). */
  readonly numClasses: number;
  /** Optional class names, index = class. */
  readonly classNames?: readonly string[];
  /** Number of experiences, or `'endless'` for a live stream trained in stream mode. */
  readonly experiences: number | 'endless';
  /** Scenario family, reported in summaries (`class-incremental`, `task-incremental`, …). */
  readonly scenario: string;
  /** Number of tasks when task labels exist (multi-head models need it). */
  readonly tasks?: number;
  /**
   * True when the samples carry regression targets (`Batch.targetValues`) instead of classes: the
   * stream of a `task: "regression"` pipeline. `numClasses` then counts the targets per sample (the
   * model's outputs).
   */
  readonly regression?: boolean;
}
