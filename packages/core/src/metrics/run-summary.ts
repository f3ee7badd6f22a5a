import type { RegressionErrors } from './error-matrix.js';
import type { EvaluationResult, RunStatus } from '../events/engram-event.js';
import type { JsonValue } from '../plugin-api/serialized-state.js';
import type { SeriesPoint } from './series-downsampler.js';

/** What the caller knows about a run before it starts (from the pipeline). */
export interface RunMeta {
  name: string;
  seed: number;
  strategies: string[];
  scenario: string;
  backend: string;
  /** The pipeline definition as run (stored in summary.json for reference). */
  pipeline: unknown;
}

/** Wall time, throughput and memory of one trained experience (from its `experience-end` event). */
export interface ExperienceSummary {
  experience: number;
  wallSeconds: number;
  samples: number;
  samplesPerSecond: number;
  rssBytes: number;
  /** Mean training loss of the experience's last epoch (or of its batches); null when none. */
  loss: number | null;
}

/**
 * An optional per-result confusion matrix (rows = true class, columns = predicted class). Proposed
 * addition to {@link EvaluationResult}; summed over results when present.
 */
export type EvaluationResultWithConfusion = EvaluationResult & { confusion?: number[][] };

/** `DIR/summary.json`: the run's key figures. Field names are stable (see docs/metrics.md). */
export interface RunSummary {
  formatVersion: 1;
  name: string;
  seed: number;
  /** Strategy kinds joined with '+' ('none' when the run used plain fine-tuning). */
  strategy: string;
  strategies: string[];
  scenario: string;
  /** The backend actually used (from `run-start`, else the requested one). */
  backend: string;
  mode: 'experiences' | 'stream';
  /** Experiences trained: rows of the accuracy matrix, or in stream mode the segments between boundaries. */
  experiences: number;
  numClasses: number | null;
  parameters: number | null;
  averageAccuracy: number | null;
  bwt: number | null;
  fwt: number | null;
  forgetting: number | null;
  learningAccuracy: number | null;
  /** R[i][j]: accuracy on experience j after training experience i; null = not evaluated. */
  accuracyMatrix: (number | null)[][];
  /** b[j]: accuracy of the untrained model on experience j; null when not evaluated. */
  initialAccuracy: (number | null)[] | null;
  forgettingPerExperience: (number | null)[];
  /**
   * Regression runs only: MAE/RMSE matrices and error forgetting (the accuracy fields are then null
   * or empty). Absent for classification.
   */
  errors?: RegressionErrors;
  /** Accuracy per class at the last evaluation (over all test sets); null for absent classes. */
  perClassAccuracy: (number | null)[] | null;
  /** Summed confusion matrix of the last evaluation, when the evaluator reports one. */
  confusionMatrix: number[][] | null;
  /** Records of the data trained on (the trainer's count, also for a stopped run; replayed rows not included). */
  trainSamples: number;
  /** Replayed rows trained on besides `trainSamples` (0 without replay). */
  replayedSamples: number;
  steps: number;
  samplesPerSecond: number;
  wallSeconds: number;
  peakRssBytes: number;
  perExperience: ExperienceSummary[];
  /** Training loss per batch: statistics and a downsampled curve (x = step). */
  loss: {
    count: number;
    first: number;
    last: number;
    min: number;
    max: number;
    mean: number;
    curve: SeriesPoint[];
  } | null;
  /** Final prequential figures of a stream run; null for experience runs. */
  prequential: {
    samples: number;
    accuracy: number;
    windowAccuracy: number;
    fadingAccuracy: number;
    /** Regression streams: prequential MAE (cumulative, window, fading) and RMSE (cumulative, window), target units. */
    mae?: number;
    windowMae?: number;
    fadingMae?: number;
    rmse?: number;
    windowRmse?: number;
  } | null;
  /** Steps at which a `boundary` (drift) was detected. */
  driftPoints: { step: number; reason: string }[];
  warnings: number;
  /** Bad records a source skipped (unparsable or refused lines of a live feed), by source; `{}` when none. */
  badRecords: Record<string, number>;
  /** Rows of data files rejected under `badRows: "skip"` (from `warning` events' `skippedRows`). */
  skippedRows: number;
  droppedSamples: number;
  /** Batches a live run skipped because their loss was NaN, infinite or above 1e12 (weights unchanged); 0 when none. */
  poisonedBatches: number;
  checkpoints: number;
  /**
   * How the run ended. A stopped run's headline figures (averageAccuracy, bwt, fwt, forgetting, learningAccuracy) are
   * null: its matrix holds only the experiences finished so far.
   */
  status: RunStatus;
  stopped: string | null;
  /** One-line cause of a failed run, else null. */
  error: string | null;
  /** Named values the run's stages recorded (`RunOutputs.set`). */
  outputs: Record<string, JsonValue>;
  pipeline: unknown;
}
