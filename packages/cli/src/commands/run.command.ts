import { ResumeError, runPipeline, type BackendName } from '@engram/core';
import { loadPipelineFile, VERSION } from '../cli-context.js';
import { formatMatrix } from '../output/matrix-table.js';
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
  /** Start afresh even when the output folder holds checkpoints of an earlier run. */
  overwrite?: boolean;
  /** Let the pipeline load plugin files from its own folder. */
  allowLocalPlugins?: boolean;
}

/**
 * `engram run <pipeline.json>`: validates, trains, prints progress and the accuracy matrix, writes
 * `summary.json` and `metrics.jsonl`. SIGINT/SIGTERM stop after the current batch with a checkpoint
 * (exit 130/143).
 */
export async function runCommand(file: string, flags: RunFlags): Promise<number> {
  const loaded = await loadPipelineFile(file, flags.plugin ?? [], flags.allowLocalPlugins === true);
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
      observe: (events$) => renderProgress(events$, mode),
      version: VERSION,
    });
    await renderReport(outcome.outDir);
    if (mode === 'bar' || mode === 'lines') {
      process.stdout.write(`\n${formatMatrix(outcome.summary)}\n`);
      process.stdout.write(`outputs in ${outcome.outDir}\n`);
      if (outcome.stopped) process.stdout.write(`stopped by ${outcome.stopped}; resume with --resume\n`);
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
