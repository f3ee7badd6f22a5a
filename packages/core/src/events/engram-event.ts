/**
 * Events of a run, emitted on one `Observable<EngramEvent>`. Field names are stable: they are the
 * lines of `metrics.jsonl`. Every event has `type`, `seq` (0-based order) and `time` (ms since run start).
 */
export type EngramEvent = EventBase &
  (
    | {
        type: 'run-start';
        name: string;
        seed: number;
        backend: string;
        mode: 'experiences' | 'stream';
        experiences: number | 'endless';
        scenario: string;
        strategies: string[];
        inputShape: number[];
        numClasses: number;
        parameters: number;
        /** Set when the run started from an earlier run's checkpoint (`--from`): that checkpoint and its step. */ continuedFrom?: {
          dir: string;
          step: number;
        };
      }
    | {
        type: 'experience-start';
        experience: number;
        classes: number[];
        task?: number;
        trainSize?: number;
        /** Optimizer steps taken before this experience: its first `batch-end` has step `step + 1` (absent in metrics written before it existed). */
        step?: number;
      }
    | { type: 'epoch-start'; experience: number; epoch: number; epochs: number }
    | {
        type: 'batch-end';
        experience: number;
        epoch: number;
        batch: number;
        batches?: number;
        step: number;
        size: number;
        loss: number;
        penalty: number;
        accuracy: number;
        epochLoss: number;
        epochAccuracy: number;
        /** Regression runs: the epoch's running training MAE (target units) so far; epochAccuracy is then 0. */
        epochMae?: number;
        samplesPerSecond: number;
      }
    | {
        type: 'epoch-end';
        experience: number;
        epoch: number;
        loss: number;
        accuracy: number;
        /** Regression runs: the epoch's training MAE (target units); accuracy is then 0. */
        mae?: number;
        /** Learning rate of the epoch's last step (set when the optimizer has a schedule). */
        learningRate?: number;
        /** Mean loss on the held-out validation part (`training.validation`). */
        validationLoss?: number;
        /** Accuracy on it (classification). */
        validationAccuracy?: number;
        /** Set on the epoch after which early stopping ended the experience's training. */
        stoppedEarly?: boolean;
      }
    | { type: 'experience-end'; experience: number; samples: number; wallSeconds: number; rssBytes: number }
    | { type: 'evaluation'; afterExperience: number; results: EvaluationResult[] }
    | {
        type: 'prequential';
        step: number;
        samples: number;
        /** Cumulative prequential accuracy (0 in a regression run, which reports the `mae` fields instead). */
        accuracy: number;
        windowAccuracy: number;
        fadingAccuracy: number;
        loss: number;
        /** Regression runs: cumulative prequential MAE over every target of every sample (target units). */
        mae?: number;
        /** Regression runs: prequential MAE over the last `evaluation.window` samples. */
        windowMae?: number;
        /** Regression runs: fading-factor prequential MAE (`evaluation.fading`). */
        fadingMae?: number;
        /** Regression runs: cumulative prequential RMSE. */
        rmse?: number;
        /** Regression runs: prequential RMSE over the last `evaluation.window` samples. */
        windowRmse?: number;
      }
    | { type: 'boundary'; step: number; reason: string }
    | { type: 'checkpoint'; path: string; step: number; bytes: number; seconds: number }
    | { type: 'dropped'; source: string; count: number; total: number }
    | {
        /** A live run skipped a batch whose loss was NaN, infinite or above 1e12; the weights were not changed. */
        type: 'poisoned-batch';
        experience: number;
        step: number;
        /** The batch's loss; null when it was not finite. */
        loss: number | null;
        /** Records of the data in the skipped batch. */
        records: number;
      }
    | {
        type: 'warning';
        message: string;
        /** Set by sources that skip bad records: who, and how many so far. */ badRecords?: {
          source: string;
          total: number;
        };
        /** Bad rows a data source skipped (badRows "skip"), when that is what it warns about. */ skippedRows?: number;
      }
    | {
        type: 'version-promoted';
        /** The version now served, its optimizer step and experience. */
        version: number;
        step: number;
        experience: number;
        /** The version it replaced (absent for the first). */
        previous?: number;
        /** `first` (nothing served yet), `ungated` (no serve.promote), `gates` (its checks passed), `forced` (POST /versions/{v}/promote), `rollback` (POST /rollback). */
        reason: 'first' | 'ungated' | 'gates' | 'forced' | 'rollback';
        checks: GateCheck[];
      }
    | {
        type: 'version-rejected';
        version: number;
        step: number;
        experience: number;
        /** The version that stays served. */
        served: number;
        /** Name of the first check that failed. */
        check: string;
        /** One line: the check and its figures. */
        message: string;
        checks: GateCheck[];
      }
    | {
        type: 'run-end';
        wallSeconds: number;
        /** Rows trained per second of training (replayed rows included). */
        samplesPerSecond: number;
        steps: number;
        /** Records of the data trained on over the whole run, from the trainer's own count (absent in metrics recorded before it existed). */
        samples?: number;
        /** Replayed rows trained on besides those records. */
        replayedSamples?: number;
        status?: RunStatus;
        stopped?: string;
        error?: string;
      }
  );

/**
 * How a run ended: `completed` (the data ran out or `maxSamples` was reached), `stopped` (a signal
 * stopped it at a batch boundary, with a checkpoint to resume from), `failed` (an error; `error`
 * holds its one-line cause). Always set by the engine; absent in metrics recorded before it existed.
 */
export type RunStatus = 'completed' | 'stopped' | 'failed';

/**
 * One promotion check of a served model version (`serve.promote`): both versions scored on the same
 * samples. Accuracies are fractions (0-1); `limit` is the lowest accuracy the new version may have.
 */
export interface GateCheck {
  /** `forgetting` (a held-out slice of one experience), `feedback` (the last labelled feedback records) or `finite` (outputs). */
  name: 'forgetting' | 'feedback' | 'finite';
  passed: boolean;
  /** True when there were too few samples to decide (the check passes). */
  skipped?: boolean;
  samples: number;
  /** The experience of a `forgetting` slice (absent for a replay-memory slice). */
  experience?: number;
  /** `replay`: a `forgetting` check on a seeded slice of the strategy's replay memory (a stream run). */
  slice?: 'replay';
  served?: number;
  candidate?: number;
  /** `forgetting`: the best accuracy a served version has had on this slice (forgetting is measured from it). */
  best?: number;
  limit?: number;
  /** `finite`: outputs of the new version that were not finite. */
  nonFinite?: number;
}

/** Fields every event carries. */
export interface EventBase {
  seq: number;
  time: number;
}

/** Accuracy and loss of the model on one experience's test set. */
export interface EvaluationResult {
  experience: number;
  /** Fraction of correct predictions (0 in a regression run, which reports `mae` and `rmse` instead). */
  accuracy: number;
  /** Regression runs: mean absolute error over every target of every test sample (target units). */
  mae?: number;
  /** Regression runs: root mean squared error over every target of every test sample (target units). */
  rmse?: number;
  loss: number;
  count: number;
  /** Correct predictions per class, index = class (only classes present in the test set count). */
  perClassCorrect?: number[];
  /** Test samples per class. */
  perClassCount?: number[];
  /** Confusion counts: row = true class, column = predicted class. */
  confusion?: number[][];
}

/** The distributive `Omit` of the base fields: what an emitter passes in. */
export type EngramEventInput = EngramEvent extends infer E
  ? E extends EngramEvent
    ? Omit<E, 'seq' | 'time'>
    : never
  : never;

/** The event with a given `type`. */
export type EventOf<T extends EngramEvent['type']> = Extract<EngramEvent, { type: T }>;
