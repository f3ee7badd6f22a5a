import type { Observable } from 'rxjs';
import type { BackendReport } from '../backend/backend-report.js';
import type { EngramEvent } from '../events/engram-event.js';
import type { RunSummary } from '../metrics/run-summary.js';
import type { BackendName } from '../pipeline/pipeline-definition.js';

/** How to run a loaded pipeline. */
export interface RunOptions {
  /** Output folder (metrics.jsonl, summary.json, checkpoints/). Default: the pipeline's `output.dir`, else `runs/<name>`. */
  readonly outDir?: string;
  /** Overrides the pipeline's `backend`. */
  readonly backend?: BackendName;
  /** Aborting it stops the run after the current batch, with a checkpoint. */
  readonly signal?: AbortSignal;
  /** Called with the event stream before the first event (progress bars, NDJSON output). */
  readonly observe?: (events$: Observable<EngramEvent>) => void;
  /** [resume] Continue from the newest valid checkpoint of the run's checkpoint folder (see engine/resume.ts). */
  readonly resume?: boolean;
  /** [resume] Receives warnings of the resume (a skipped corrupt checkpoint). Default: stderr. */
  readonly warn?: (message: string) => void;
  /** [resume] Told which checkpoint the run continues from, once it is verified and before it is restored. */
  readonly onResume?: (point: { readonly dir: string; readonly step: number; readonly reason: string }) => void;
  /** Engram version recorded in checkpoints. */
  readonly version?: string;
}

/** What a run produced. */
export interface RunOutcome {
  readonly summary: RunSummary;
  readonly backend: BackendReport;
  readonly outDir: string;
  /** Set when the run was stopped by a signal before the end. */
  readonly stopped?: string;
}
