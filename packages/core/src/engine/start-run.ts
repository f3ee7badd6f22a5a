import { Subject, type Observable } from 'rxjs';
import type { EngramEvent } from '../events/engram-event.js';
import { loadPipeline, type LoadedPipeline } from '../loading/pipeline.loader.js';
import { corePlugin } from '../builtins/core.plugin.js';
import { runPipeline } from './engine.js';
import type { RunOptions, RunOutcome } from './run-options.js';

/** Options of {@link startRun}: those of `runPipeline`, without the two the handle provides. */
export type StartRunOptions = Omit<RunOptions, 'observe' | 'signal'>;

/** Options of {@link startRunFromFile}: {@link StartRunOptions} and how the pipeline's plugins are found. */
export interface StartRunFromFileOptions extends StartRunOptions {
  /** Plugins loaded after the pipeline's own (like `engram run --plugin`). */
  readonly plugins?: readonly string[];
  /** Extra folders plugin package names are resolved from (besides the pipeline's folder and the cwd). */
  readonly resolveFrom?: readonly string[];
}

/** A run in progress, started by {@link startRun}. */
export interface RunHandle {
  /**
   * Every event of the run, in order (`run-start`, `batch-end`, `evaluation`, …, `run-end`). Hot:
   * subscribe right after starting (before awaiting anything) to see them all. Completes when the
   * run ends — also when it fails (the failure is `outcome`'s rejection, never an error here).
   */
  readonly events$: Observable<EngramEvent>;
  /** Resolves with the summary and outputs when the run ends; rejects with the cause when it fails. */
  readonly outcome: Promise<RunOutcome>;
  /**
   * Stops the run after the current batch, with a checkpoint (as SIGINT does for `engram run`);
   * `outcome` then resolves with `stopped` set to `reason`. Idempotent.
   */
  stop(reason?: string): void;
}

/**
 * Starts a loaded pipeline and returns at once: the embedding API for a Node service or script. The
 * run has its own `RunContext` (dropout generator, accelerated operations, backend lease), so several
 * runs may be started in one process and run concurrently; each gives the same numbers as it would
 * alone. Built on `runPipeline(loaded, { observe, signal })`.
 *
 * @example
 * const run = startRun(await loadPipeline('examples/quickstart.pipeline.json', { builtins: [corePlugin] }));
 * run.events$.subscribe((e) => { if (e.type === 'evaluation') console.log(e); });
 * const { summary } = await run.outcome;
 */
export function startRun(loaded: LoadedPipeline | Promise<LoadedPipeline>, options: StartRunOptions = {}): RunHandle {
  const events = new Subject<EngramEvent>();
  const abort = new AbortController();
  const outcome = (async (): Promise<RunOutcome> => {
    const pipeline = await loaded;
    return runPipeline(pipeline, {
      ...options,
      signal: abort.signal,
      observe: (events$) => {
        events$.subscribe({ next: (e) => events.next(e), complete: () => events.complete() });
      },
    });
  })();
  // The stream completes however the run ends; the failure itself is reported through `outcome`.
  outcome.then(
    () => events.complete(),
    () => events.complete(),
  );
  return {
    events$: events.asObservable(),
    outcome,
    stop: (reason = 'stopped') => {
      if (!abort.signal.aborted) abort.abort(reason);
    },
  };
}

/**
 * {@link startRun} for a pipeline file: loads and validates it (core's built-ins, the plugins it
 * names, resolved from its folder and the cwd, then `options.plugins`) and starts it. An invalid
 * pipeline rejects `outcome` with a `PipelineError`.
 */
export function startRunFromFile(file: string, options: StartRunFromFileOptions = {}): RunHandle {
  const { plugins, resolveFrom, ...runOptions } = options;
  const loaded = loadPipeline(file, {
    builtins: [corePlugin],
    ...(plugins ? { extraPlugins: plugins } : {}),
    ...(resolveFrom ? { resolveFrom } : {}),
  });
  return startRun(loaded, runOptions);
}
