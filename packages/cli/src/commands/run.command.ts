import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ResumeError, runPipeline, type BackendName } from '@engram/core';
import { OutputDirError, probeWritable, runPaths } from '@engram/core/internal';
import { loadPipelineFile, VERSION } from '../cli-context.js';
import { parseOverride } from '../pipeline-overrides.js';
import { assertDataReadable } from './data-check.js';
import { keepRunningOnClosedStdout } from '../output/stdout-guard.js';
import { formatOutcome } from '../output/matrix-table.js';
import { progressMode, renderProgress } from '../output/progress.renderer.js';
import { renderReport } from '../report/index.js';
import type { RunServer } from '../serve/run-server.js';
import { serveSettings } from '../serve/serve-settings.js';
import { pipelineDoors, type ServeDoors } from '../serve/serve-doors.js';

/** Flags of `engram run`. */
export interface RunFlags {
  out?: string;
  backend?: string;
  quiet?: boolean;
  json?: boolean;
  plugin?: string[];
  /** Continue from the newest valid checkpoint in the output folder. */
  resume?: boolean;
  /** Start this new run from an earlier run's newest valid checkpoint (wins over the pipeline's `continueFrom`). */
  from?: string;
  /** Start afresh even when the output folder holds checkpoints of an earlier run. */
  overwrite?: boolean;
  /** Let the pipeline load plugin files from its own folder. */
  allowLocalPlugins?: boolean;
  /** `[HOST:]PORT`: serve the live model over HTTP while it trains (wins over the pipeline's `serve`). */
  serve?: string;
  /** `--set path=value` overrides of pipeline fields, in order (see pipeline-overrides.ts). */
  set?: string[];
}

/**
 * `engram run <pipeline.json>`: validates, trains, prints progress and the accuracy matrix (prequential
 * figures for a stream; where it stopped for an interrupted run), writes `summary.json` and
 * `metrics.jsonl`. SIGINT/SIGTERM/SIGHUP stop at the next batch boundary with a checkpoint marked as a stop
 * (exit 130/143/129; summary.json `"status": "stopped"`); `--resume` continues it. `--resume` with no
 * checkpoint starts a new run and says so; `--resume` of a run that had finished says so, runs nothing
 * and exits 0. `--from <run>` starts a new run from an earlier run's
 * newest valid checkpoint (see core's engine/continue-from.ts).
 */
export async function runCommand(file: string, flags: RunFlags): Promise<number> {
  const loaded = await loadPipelineFile(file, flags.plugin ?? [], flags.allowLocalPlugins === true, flags.set ?? []);
  await assertDataReadable(loaded);
  let serve;
  let doors: ServeDoors | undefined;
  try {
    serve = serveSettings(loaded.definition, flags.serve);
    // Tokens from the environment and the TLS files, checked before anything runs (exit 2 at the pointer).
    if (serve) doors = pipelineDoors(serve, loaded.baseDir);
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    return 2;
  }
  const paths = runPaths(loaded, flags.out);
  const earlier =
    paths.checkpointDir !== undefined && existsSync(paths.checkpointDir)
      ? readdirSync(paths.checkpointDir).filter((n) => /^step-\d{12}$/.test(n))
      : [];
  if (earlier.length > 0 && !flags.resume) {
    if (!flags.overwrite) {
      process.stderr.write(
        `error: ${paths.checkpointDir} holds ${earlier.length} checkpoint(s) of an earlier run; continue it with ` +
          `--resume, or start afresh with --overwrite (deletes them)\n`,
      );
      return 2;
    }
    for (const n of earlier) rmSync(join(paths.checkpointDir as string, n), { recursive: true, force: true });
  }
  try {
    probeWritable([paths.outDir, ...(paths.checkpointDir !== undefined ? [paths.checkpointDir] : [])]);
  } catch (e) {
    if (!(e instanceof OutputDirError)) throw e;
    process.stderr.write(`error: ${e.message}\n`);
    return 1;
  }
  const mode = progressMode(flags, process.stdout.isTTY === true);
  if (mode !== 'quiet') {
    const where =
      `outputs in ` +
      `${paths.outDir}${paths.checkpointDir !== undefined && paths.checkpointDir !== join(paths.outDir, 'checkpoints') ? `, checkpoints in ${paths.checkpointDir}` : ''}\n`;
    (mode === 'json' ? process.stderr : process.stdout).write(where);
  }
  let served: RunServer | undefined;
  if (serve) {
    try {
      // fastify, prom-client and the dashboard are loaded only when serving.
      const { startRunServer } = await import('../serve/run-server.js');
      served = await startRunServer(loaded, serve, flags.plugin ?? [], flags.set ?? [], doors);
    } catch (e) {
      process.stderr.write(`error: ${(e as Error).message}\n`);
      return 1;
    }
    process.stderr.write(
      `serving on ` +
        `${doors?.tls ? 'https' : 'http'}://${served.address.family === 'IPv6' ? `[${served.address.address}]` : served.address.address}:${served.address.port}/ ` +
        `(POST /predict, /feedback; GET /metrics, /events, /healthz, /readyz; dashboard at /)\n`,
    );
  }
  keepRunningOnClosedStdout(true);
  const controller = new AbortController();
  let exitCode = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    exitCode = stopExitCode(signal);
    controller.abort(signal);
  };
  for (const s of STOP_SIGNALS) process.once(s, onSignal);
  try {
    const outcome = await runPipeline(loaded, {
      ...(flags.out ? { outDir: flags.out } : {}),
      ...(flags.backend ? { backend: flags.backend as BackendName } : {}),
      signal: controller.signal,
      ...(flags.resume ? { resume: true } : {}),
      // Recorded in every checkpoint: a --resume whose flags change the pipeline is told which ones.
      overrides: (flags.set ?? []).map(parseOverride),
      onResume: (p) => process.stderr.write(`resuming from ${p.dir} (step ${p.step}, written at ${p.reason})\n`),
      ...(flags.from !== undefined ? { from: resolve(flags.from) } : {}),
      onContinue: (p) => process.stderr.write(`continuing run "${p.name}" from ${p.dir} (step ${p.step})\n`),
      observe: (events$) => {
        served?.observe(events$);
        renderProgress(
          events$,
          mode,
          process.stdout,
          loaded.definition.training.epochs !== undefined ? { epochs: loaded.definition.training.epochs } : {},
        );
      },
      // Requests are answered on the server's own thread: the run keeps its usual event-loop turns.
      ...(served ? { stages: [served.stage] } : {}),
      version: VERSION,
    });
    if (outcome.finished) {
      process.stderr.write(
        `the run in ${outcome.outDir} has already finished (checkpoint ${outcome.finished.dir}, step ${outcome.finished.step}): nothing to resume\n`,
      );
      return 0;
    }
    await renderReport(outcome.outDir);
    if (mode === 'bar' || mode === 'lines') {
      process.stdout.write(`\n${formatOutcome(outcome.summary, outcome.stopped)}\n`);
      process.stdout.write(`outputs in ${outcome.outDir}\n`);
    }
    if (served && !outcome.stopped && served.settings.linger) await lingerUntilSignal(served, controller.signal);
    return outcome.stopped ? exitCode || stopExitCode(outcome.stopped) : 0;
  } catch (e) {
    if (!(e instanceof ResumeError)) throw e;
    process.stderr.write(`error: ${e.message}\n`);
    return 2;
  } finally {
    keepRunningOnClosedStdout(false);
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
    await served?.close();
  }
}

/**
 * The signals that stop a run at the next batch boundary with a checkpoint and summary.json: SIGINT
 * (Ctrl-C), SIGTERM (a supervisor) and SIGHUP (its terminal was closed, an ssh session dropped).
 */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Exit code of a run stopped by `signal`: 128 + the signal's number (SIGHUP 129, SIGINT 130, SIGTERM 143). */
export function stopExitCode(signal: string): number {
  return { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 }[signal] ?? 143;
}

/** After a completed run, `serve.linger`: keeps answering with the last version until SIGINT/SIGTERM. */
async function lingerUntilSignal(served: RunServer, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  const v = await served.settled();
  process.stderr.write(
    `training ended; still serving model version ${v?.version ?? '?'} (step ${v?.step ?? '?'}) until SIGINT/SIGTERM\n`,
  );
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
