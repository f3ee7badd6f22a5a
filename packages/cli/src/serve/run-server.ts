import type { AddressInfo } from 'node:net';
import type { EngramEvent, PipelineDefinition, PlacedStage, ServeSettings, StageRun } from '@engram/core';
import { FALLBACK_EVERY } from './serve-settings.js';
import type { Observable } from 'rxjs';
import { ModelServer } from './model-server.js';
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
export async function startRunServer(def: PipelineDefinition, settings: ServeSettings): Promise<RunServer> {
  let run: StageRun | undefined;
  const data = (): ServedData | undefined =>
    run && { inputShape: run.info.inputShape, numClasses: run.info.numClasses, ...(run.info.classNames ? { classNames: run.info.classNames } : {}), preprocess: (b) => run?.preprocess(b) ?? b };
  const server = new ModelServer({ host: settings.host, port: settings.port, bodyLimit: settings.bodyLimit, maxInstances: settings.maxInstances, feedback: settings.feedback, data });
  const scheduled = def.checkpoint.enabled && (def.checkpoint.everyBatches !== undefined || def.checkpoint.everySeconds !== undefined);
  const publish = new PublishStage(server.board, { ...(settings.publishEvery !== undefined ? { every: settings.publishEvery } : {}), ...(scheduled ? {} : { fallbackEvery: FALLBACK_EVERY }) }, (r) => (run = r));
  server.onEvent((e) => {
    if (e.type === 'checkpoint') publish.checkpointed(e.step);
    if (e.type === 'batch-end' || e.type === 'run-end') server.metrics.setTrained(run?.cursor.samples ?? 0, run?.cursor.step ?? 0);
  });
  const address = await server.listen();
  return { server, address, settings, stage: { stage: publish, path: '/serve', after: 'checkpoint' }, observe: (e$) => server.observe(e$) };
}
