import { resolve } from 'node:path';
import type { CheckpointStore } from '../checkpoint/checkpoint.store.js';
import { RUN_FILES } from '../metrics/run-recorder.js';
import type { PipelineDefinition } from '../pipeline/pipeline-definition.js';
import { ContinueStart } from './continue-start.js';
import { loadContinuePoint } from './continue-from.js';
import { FinishedRun, finishedRun } from './finished-run.js';
import { loadResumePoint } from './resume.js';
import { ResumeStart } from './resume-start.js';
import type { RunOptions } from './run-options.js';
import { FreshStart, type RunStart } from './run-start.js';

/** What {@link chooseStart} reads. */
export interface StartChoice {
  readonly def: PipelineDefinition;
  readonly baseDir: string;
  readonly outDir: string;
  readonly store: CheckpointStore;
  readonly options: RunOptions;
  readonly warn: (message: string) => void;
}

/**
 * Chooses how the run begins, once, before anything is built: `--resume` with a valid checkpoint of
 * this run resumes it (a run with none starts new, said through `warn`; a run that went on to its end
 * after that checkpoint is {@link FinishedRun}: nothing to run); otherwise `--from` (or the
 * pipeline's `continueFrom`) continues an earlier run; otherwise the run is new. Tells the embedder
 * where the run restarts (`onResume`, `onContinue`) once the checkpoint is verified.
 */
export async function chooseStart(c: StartChoice): Promise<RunStart | FinishedRun> {
  const { options, warn } = c;
  if (options.resume) {
    const metrics = resolve(c.outDir, RUN_FILES.metrics);
    const point = await loadResumePoint(c.store, c.def, metrics, warn, options.overrides ?? []);
    if (point) {
      const summary = await finishedRun(point, c.outDir);
      if (summary) return new FinishedRun(summary, point.dir, point.step);
      options.onResume?.({ dir: point.dir, step: point.step, reason: point.reason });
      return new ResumeStart(point);
    }
    warn(`nothing to resume: no checkpoint in ${c.store.root}; starting a new run`);
  }
  const from = options.from ?? (c.def.continueFrom !== undefined ? resolve(c.baseDir, c.def.continueFrom) : undefined);
  if (from === undefined) return new FreshStart();
  const point = await loadContinuePoint(from, warn);
  options.onContinue?.({ dir: point.dir, step: point.step, name: point.run.pipeline.name });
  return new ContinueStart(point);
}
