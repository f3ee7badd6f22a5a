import type { Observable } from 'rxjs';
import type { BackendReport } from '../plugin-api/backend-report.js';
import type { CommandOverride } from './resume-overrides.js';
import type { EngramEvent } from '../events/engram-event.js';
import type { RunSummary } from '../metrics/run-summary.js';
import type { BackendName } from '../pipeline/pipeline-definition.js';
import type { PlacedStage } from '../stages/stage-order.js';

/** How to run a loaded pipeline. */
export interface RunOptions {
  /** Output folder (metrics.jsonl, summary.json, checkpoints/). Default: the pipeline's `output.dir`, else `runs/<name>`. */
  readonly outDir?: string;
  /** Overrides the pipeline's `backend`. */
  readonly backend?: BackendName;
  /**
   * Aborting it stops the run at the next batch boundary with a checkpoint marked as a stop (reason `signal`); the
   * outcome has `stopped` = the abort reason.
   */
  readonly signal?: AbortSignal;
  /**
   * Called with the event stream before the first event (progress bars, NDJSON output). An observer that throws becomes
   * a `warning` event.
   */
  readonly observe?: (events$: Observable<EngramEvent>) => void;
  /**
   * [resume] Continue from the newest valid checkpoint of the run's checkpoint folder (see engine/resume.ts); with
   * none, start a new run and say so through `warn`; a run that had finished is not run again
   * (`RunOutcome.finished`).
   */
  readonly resume?: boolean;
  /**
   * The `--set path=value` flags the embedder applied to the pipeline document before loading it (the
   * CLI's). Recorded, secrets redacted, in every checkpoint; a `resume` whose pipeline differs from the
   * checkpoint's names the flags that differ from the start's (see engine/resume-overrides.ts).
   */
  readonly overrides?: readonly CommandOverride[];
  /** [resume] Receives the resume's messages (a skipped corrupt checkpoint, nothing to resume). Default: stderr. */
  readonly warn?: (message: string) => void;
  /** [resume] Told which checkpoint the run continues from, once it is verified and before it is restored. */
  readonly onResume?: (point: { readonly dir: string; readonly step: number; readonly reason: string }) => void;
  /**
   * [continue] Start this new run from the newest valid checkpoint of an earlier run (a run folder, its
   * `checkpoints` folder or one checkpoint folder; see engine/continue-from.ts): model, optimizer,
   * strategy and transform state matched by kind, RNGs, metric history; its experiences continue the
   * earlier numbering. Wins over the pipeline's `continueFrom`; ignored when `resume` finds a checkpoint.
   */
  readonly from?: string;
  /** [continue] Told which earlier checkpoint the run starts from, once it is verified and before it is restored. */
  readonly onContinue?: (point: { readonly dir: string; readonly step: number; readonly name: string }) => void;
  /** Engram version recorded in checkpoints. */
  readonly version?: string;
  /**
   * Stages the embedder adds to the run (e.g. the CLI's model server), placed after the pipeline's
   * plugin stages by the same rules (`after` / `before` a named stage, default before `checkpoint`).
   * Their `path` names them in errors; a stateful one is checkpointed under it.
   */
  readonly stages?: readonly PlacedStage[];
  /**
   * At most this many milliseconds between two turns of the event loop during training (default 250).
   * Training on a synchronous backend holds the loop: a signal, an HTTP request or a timer waits for the
   * next turn. A process that answers requests on the training thread passes 0 — a turn after every
   * batch — and pays a few percent of throughput for it (`engram run --serve` does not: its server has
   * its own thread). Given at all, it also makes the run turn
   * the loop inside its other long synchronous work: evaluation scores at most a training batch of rows
   * per piece with a turn between pieces, and a checkpoint turns between capture, encoding and writing
   * (see `LoopTurns`). Results are the same either way.
   */
  readonly yieldEveryMs?: number;
}

/** What a run produced. */
export interface RunOutcome {
  readonly summary: RunSummary;
  readonly backend: BackendReport;
  readonly outDir: string;
  /** Set when the run was stopped by a signal before the end (summary `status: "stopped"`). */
  readonly stopped?: string;
  /**
   * [resume] Set when `resume` found the run already finished after its newest checkpoint (`dir`,
   * `step`): nothing ran and nothing was written; `summary` is the finished run's summary.json.
   */
  readonly finished?: { readonly dir: string; readonly step: number };
}
