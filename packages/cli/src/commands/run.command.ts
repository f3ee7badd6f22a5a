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
}

/**
 * `engram run <pipeline.json>`: validates, trains, prints progress and the accuracy matrix, writes
 * `summary.json` and `metrics.jsonl`. SIGINT/SIGTERM stop at the next batch boundary with a checkpoint
 * marked as a stop (exit 130/143; summary.json `"status": "stopped"`); `--resume` continues it. `--resume`
 * with no checkpoint starts a new run and says so.
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
      observe: (events$) => renderProgress(events$, mode),
      version: VERSION,
    });
    await renderReport(outcome.outDir);
    if (mode === 'bar' || mode === 'lines') {
      const s = outcome.summary;
      // A stopped run has no final matrix: say where it stopped instead of printing one that reads like a result.
      if (outcome.stopped) process.stdout.write(`\nstopped by ${outcome.stopped} at step ${s.steps} with ${s.perExperience.length} experience(s) finished; resumable with --resume\n`);
      else process.stdout.write(`\n${formatMatrix(s)}\n`);
      process.stdout.write(`outputs in ${outcome.outDir}\n`);
    }
    return outcome.stopped ? exitCode || (outcome.stopped === 'SIGINT' ? 130 : 143) : 0;
  } catch (e) {
    if (!(e instanceof ResumeError)) throw e;
    process.stderr.write(`error: ${e.message}\n`);
    return 2;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
