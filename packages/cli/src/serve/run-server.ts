import type { AddressInfo } from 'node:net';
import type { EngramEvent, LoadedPipeline, PlacedStage, ServeSettings, StageRun } from '@engram/core';
import { buildPredictionView } from '@engram/core/internal';
import { FALLBACK_EVERY } from './serve-settings.js';
import type { Observable } from 'rxjs';
import { ModelServer } from './model-server.js';
import { ModelVersion } from './model-version.js';
import { PublishStage } from './publish.stage.js';
import type { ServedData } from './served-data.js';

/** A model server attached to one run of `engram run`. */
export interface RunServer {
  readonly server: ModelServer;
  readonly address: AddressInfo;
  /** The stage to add to the run (RunOptions.stages). */
  readonly stage: PlacedStage;
  /** Passes the run's events to the server (call from RunOptions.observe). */
  observe(events$: Observable<EngramEvent>): void;
  readonly settings: ServeSettings;
}

/**
 * Starts the server of `engram run --serve` before the run (so a busy port fails fast) and returns
 * the publishing stage to place after `checkpoint`. The server answers `/healthz` at once and
 * `/readyz` once the run has published its first model version (at run start).
 */
export async function startRunServer(loaded: LoadedPipeline, settings: ServeSettings): Promise<RunServer> {
  const def = loaded.definition;
  let run: StageRun | undefined;
  const data = (): ServedData | undefined =>
    run && { inputShape: run.info.inputShape, numClasses: run.info.numClasses, ...(run.info.classNames ? { classNames: run.info.classNames } : {}), ...(run.info.tasks !== undefined ? { tasks: run.info.tasks } : {}) };
  const server = new ModelServer({ host: settings.host, port: settings.port, bodyLimit: settings.bodyLimit, maxInstances: settings.maxInstances, feedback: settings.feedback, data });
  // A version predicts as the run's evaluation: its network seen through fresh components of the
  // pipeline restored from the states published with the weights.
  server.board.buildWith((s, spare) => ModelVersion.fromSnapshot(s, async (network, snap) => {
    if (!run) throw new Error('no run to build a model version for');
    return buildPredictionView(loaded, network, snap.states, run.info);
  }, spare));
  const scheduled = def.checkpoint.enabled && (def.checkpoint.everyBatches !== undefined || def.checkpoint.everySeconds !== undefined);
  const publish = new PublishStage(server.board, { ...(settings.publishEvery !== undefined ? { every: settings.publishEvery } : {}), ...(scheduled ? {} : { fallbackEvery: FALLBACK_EVERY }) }, (r) => (run = r));
  server.onEvent((e) => {
    if (e.type === 'checkpoint') publish.checkpointed(e.step);
    if (e.type === 'batch-end' || e.type === 'run-end') server.metrics.setTrained(run?.cursor.samples ?? 0, run?.cursor.step ?? 0);
  });
  const address = await server.listen();
  return { server, address, settings, stage: { stage: publish, path: '/serve', after: 'checkpoint' }, observe: (e$) => server.observe(e$) };
}
