import { ResumeError, runPipeline, type BackendName } from '@engram/core';
import { loadPipelineFile, VERSION } from '../cli-context.js';
import { formatOutcome } from '../output/matrix-table.js';
import { progressMode, renderProgress } from '../output/progress.renderer.js';
import { renderReport } from '../report/index.js';

/** Flags of `engram run`. */
export interface RunFlags {
  out?: string;
  backend?: string;
  quiet?: boolean;
  json?: boolean;
  plugin?: string[];
  /** Continue from the newest valid checkpoint in the output folder. */
  resume?: boolean;
}

/**
 * `engram run <pipeline.json>`: validates, trains, prints progress and the accuracy matrix (prequential
 * figures for a stream; where it stopped for an interrupted run), writes
 * `summary.json` and `metrics.jsonl`. SIGINT/SIGTERM stop after the current batch with a checkpoint
 * (exit 130/143).
 */
export async function runCommand(file: string, flags: RunFlags): Promise<number> {
  const loaded = await loadPipelineFile(file, flags.plugin ?? []);
  const controller = new AbortController();
  let exitCode = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    exitCode = signal === 'SIGINT' ? 130 : 143;
    controller.abort(signal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const mode = progressMode(flags, process.stdout.isTTY === true);
  try {
    const outcome = await runPipeline(loaded, {
      ...(flags.out ? { outDir: flags.out } : {}),
      ...(flags.backend ? { backend: flags.backend as BackendName } : {}),
      signal: controller.signal,
      ...(flags.resume ? { resume: true } : {}),
      observe: (events$) => renderProgress(events$, mode, process.stdout, { epochs: loaded.definition.training.epochs }),
      version: VERSION,
    });
    await renderReport(outcome.outDir);
    if (mode === 'bar' || mode === 'lines') {
      process.stdout.write(`\n${formatOutcome(outcome.summary, outcome.stopped)}\n`);
      process.stdout.write(`outputs in ${outcome.outDir}\n`);
    }
    return outcome.stopped ? exitCode || 130 : 0;
  } catch (e) {
    if (!(e instanceof ResumeError)) throw e;
    process.stderr.write(`error: ${e.message}\n`);
    return 2;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
