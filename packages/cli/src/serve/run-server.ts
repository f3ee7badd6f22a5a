import { getHeapStatistics } from 'node:v8';
import type { AddressInfo } from 'node:net';
import type { EngramEvent, LoadedPipeline, PlacedStage, ServeSettings, StageRun } from '@engram/core';
import * as tf from '@tensorflow/tfjs';
import type { Observable, Subscription } from 'rxjs';
import type { VersionInfo } from './model-version.js';
import { PublishStage } from './publish.stage.js';
import { FALLBACK_EVERY } from './serve-settings.js';
import type { ServeDoors } from './serve-doors.js';
import { ServeThread } from './serve-thread.js';

/** A model server attached to one run of `engram run`. */
export interface RunServer {
  readonly address: AddressInfo;
  /** The stage to add to the run (RunOptions.stages). */
  readonly stage: PlacedStage;
  /** Passes the run's events to the server (call from RunOptions.observe). */
  observe(events$: Observable<EngramEvent>): void;
  readonly settings: ServeSettings;
  /** Resolves with the served version once every version published so far is built. */
  settled(): Promise<VersionInfo | undefined>;
  /** Stops serving. */
  close(): Promise<void>;
}

/**
 * Starts the server of `engram run --serve` in its own thread before the run (so a busy port fails
 * fast) and returns the publishing stage to place after `checkpoint`. Requests are answered on that
 * thread while training holds this one; the stage copies the weights between two items and sends
 * them over. The server answers `/healthz` at once and `/readyz` once the run has published its
 * first model version (at run start). `extraPlugins`: the run's `--plugin`s (the serving thread
 * loads the pipeline with the same plugins); `sets`: its `--set` flags (applied there too); `doors`: its
 * tokens and TLS ({@link pipelineDoors}).
 */
export async function startRunServer(
  loaded: LoadedPipeline,
  settings: ServeSettings,
  extraPlugins: readonly string[] = [],
  sets: readonly string[] = [],
  doors?: ServeDoors,
): Promise<RunServer> {
  const def = loaded.definition;
  const thread = await ServeThread.start(loaded, settings, extraPlugins, sets, doors);
  let run: StageRun | undefined;
  const scheduled =
    def.checkpoint.enabled && (def.checkpoint.everyBatches !== undefined || def.checkpoint.everySeconds !== undefined);
  const publish = new PublishStage(
    thread,
    {
      ...(settings.publishEvery !== undefined ? { every: settings.publishEvery } : {}),
      ...(scheduled ? {} : { fallbackEvery: FALLBACK_EVERY }),
      ...(settings.promote?.maxForgetting !== undefined ? { heldOut: settings.promote.heldOut, seed: def.seed } : {}),
    },
    (r) => {
      run = r;
      thread.info(r.info, tf.getBackend());
    },
  );
  // The serving thread's promotion decisions become run events (metrics.jsonl, loggers, the dashboard).
  thread.onDecision = (d) => run?.events.emit(d);
  let subscription: Subscription | undefined;
  return {
    address: thread.address,
    settings,
    stage: { stage: publish, path: '/serve', after: 'checkpoint' },
    observe: (events$) => {
      subscription = events$.subscribe({
        next: (e) => {
          if (e.type === 'checkpoint') publish.checkpointed(e.step);
          const trained =
            e.type === 'batch-end' || e.type === 'run-end'
              ? {
                  samples: run?.cursor.samples ?? 0,
                  step: run?.cursor.step ?? 0,
                  tensors: tf.memory().numTensors,
                  heapUsed: getHeapStatistics().used_heap_size,
                }
              : undefined;
          thread.event(e, trained);
        },
      });
    },
    settled: () => thread.settled(),
    close: async () => {
      subscription?.unsubscribe();
      await thread.close();
    },
  };
}
