import { resolve } from 'node:path';
import type { RunStatus } from '../events/engram-event.js';
import { emitFinalPrequential } from '../metrics/final-prequential.js';
import type { LoadedPipeline } from '../loading/pipeline.loader.js';
import { assembleRun, type AssembledRun } from './run-assembly.js';
import { runItems } from './run-items.js';
import type { RunOptions, RunOutcome } from './run-options.js';
import { RunScope } from './run-scope.js';

function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}

/**
 * Runs a loaded pipeline end to end. Its lifecycle has three parts:
 * 1. {@link assembleRun} builds the run's services in order, each owned by the run's {@link RunScope}
 *    (backend lease, event bus, state, optimizer, components, checkpoint store, the run's start —
 *    new, resumed or continued, chosen once — and the recorder of `metrics.jsonl`); a `--resume` of a
 *    run that had finished stops there and returns its summary (`RunOutcome.finished`);
 * 2. {@link runItems} builds the model, lets the start restore, and runs the items through the stages
 *    resolved from the scope's container (preprocess → adjust → train → evaluate → checkpoint, plus
 *    plugin stages where the pipeline places them);
 * 3. the run ends: a `run-end` event with its status (`completed`, `stopped` by the signal, or
 *    `failed` with the one-line cause), the loggers closed, the event stream completed, summary.json
 *    written — then a failure is rethrown, and the scope releases everything in reverse order.
 */
export async function runPipeline(loaded: LoadedPipeline, options: RunOptions = {}): Promise<RunOutcome> {
  const def = loaded.definition;
  const outDir = resolve(
    options.outDir ?? (def.output.dir ? resolve(loaded.baseDir, def.output.dir) : `runs/${def.name}`),
  );
  const scope = new RunScope();
  try {
    const run = await assembleRun(loaded, options, scope, outDir);
    if ('outcome' in run) return run.outcome; // the run had already finished: nothing runs or is written
    return await finish(run, await attempt(run));
  } finally {
    await scope.close();
  }
}

/** What running the items gave: the stop reason, or the failure. */
interface Attempt {
  readonly status: RunStatus;
  readonly stopped?: string;
  readonly failure?: unknown;
}

async function attempt(run: AssembledRun): Promise<Attempt> {
  try {
    const stopped = await runItems(run, run.context.backend.description);
    return stopped !== undefined ? { status: 'stopped', stopped } : { status: 'completed' };
  } catch (failure) {
    return { status: 'failed', failure };
  }
}

/**
 * Ends the run however the items ended: the final prequential figures of a stream, `run-end`, the
 * loggers closed, the event stream completed and the summary written. Rethrows a failure.
 */
async function finish(run: AssembledRun, end: Attempt): Promise<RunOutcome> {
  const { state, bus, prequential, guard, recorder } = run;
  const { status, stopped } = end;
  let failure = end.failure;
  // summary.prequential covers every sample of a stream, not only up to the last logged step.
  if (state.info.experiences === 'endless') emitFinalPrequential(bus, prequential, state.cursor.step);
  const wallSeconds = state.priorWallSeconds + (performance.now() - state.startedAt) / 1000;
  bus.emit({
    type: 'run-end',
    wallSeconds,
    samplesPerSecond: (state.cursor.samples + state.cursor.replayed) / Math.max(1e-9, state.trainSeconds),
    steps: state.cursor.step,
    samples: state.cursor.samples,
    replayedSamples: state.cursor.replayed,
    status,
    ...(stopped !== undefined ? { stopped } : {}),
    ...(failure !== undefined ? { error: oneLine(failure) } : {}),
  });
  for (const { logger, path } of run.components.loggers) {
    try {
      await logger.close?.();
    } catch (e) {
      guard.report(`closing logger ${path}`, e);
    }
  }
  bus.complete();
  let summary;
  try {
    summary = await recorder.finish();
  } catch (e) {
    failure ??= e;
  }
  if (failure !== undefined || summary === undefined) throw failure;
  return { summary, backend: run.context.backend, outDir: run.outDir, ...(stopped !== undefined ? { stopped } : {}) };
}
