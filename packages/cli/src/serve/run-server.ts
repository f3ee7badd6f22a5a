import type { AddressInfo } from 'node:net';
import type { EngramEvent, PipelineDefinition, PlacedStage, ServeSettings, StageRun } from '@engram/core';
import type { Observable } from 'rxjs';
import { ModelServer } from './model-server.js';
import { PublishStage } from './publish.stage.js';
import { parseServeAddress } from './serve-address.js';
import type { ServedData } from './served-data.js';

/** Defaults of `serve` when only `--serve` is given (the pipeline schema's defaults). */
const DEFAULTS: ServeSettings = {
  host: '127.0.0.1',
  port: 8080,
  bodyLimit: 1048576,
  maxInstances: 1024,
  linger: true,
  feedback: { channel: 'default', ttlSeconds: 600, maxBytes: 67108864 },
};

/** Steps between versions when the default policy would publish only at experience ends (no batch/time checkpoints). */
const FALLBACK_EVERY = 100;

/** The pipeline's `serve` settings with `--serve [HOST:]PORT` applied (the flag wins); undefined: no server. */
export function serveSettings(def: PipelineDefinition, flag: string | undefined): ServeSettings | undefined {
  if (flag === undefined && def.serve === undefined) return undefined;
  const base = def.serve ?? DEFAULTS;
  if (flag === undefined) return base;
  const { host, port } = parseServeAddress(flag, base.host);
  return { ...base, host, port };
}

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
