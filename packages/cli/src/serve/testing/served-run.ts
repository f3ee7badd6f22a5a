import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPipeline, type RunOutcome, type ServeSettings } from '@engram/core';
import { loadPipelineFile } from '../../cli-context.js';
import { startRunServer, type RunServer } from '../run-server.js';

/** A run started in this process with its model server (test helper). */
export interface ServedRun {
  readonly base: string;
  readonly served: RunServer;
  readonly outcome: Promise<RunOutcome>;
  readonly outDir: string;
  stop(): void;
  /** Stops the run if needed, waits for it, closes the server. */
  close(): Promise<void>;
}

/** Small synthetic pipelines for the serving tests (cpu backend: exact, reproducible numbers). */
export function testPipeline(name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    seed: 7,
    backend: 'cpu',
    plugins: ['@engram/datasets', '@engram/strategies'],
    data: { kind: 'synthetic', numClasses: 3, features: 4, samplesPerClass: 120 },
    model: { layers: [{ type: 'dense', units: 16, activation: 'relu' }] },
    optimizer: { type: 'adam', learningRate: 0.01 },
    strategy: { kind: 'naive' },
    training: { epochs: 2, batchSize: 16, logEvery: 1 },
    ...overrides,
  };
}

/** Writes `doc` to `dir/pipeline.json`, starts its server on a free loopback port and starts the run. */
export async function startServedRun(
  doc: Record<string, unknown>,
  dir: string,
  serve: Partial<ServeSettings> = {},
): Promise<ServedRun> {
  const file = join(dir, 'pipeline.json');
  writeFileSync(file, JSON.stringify(doc));
  const loaded = await loadPipelineFile(file);
  const settings: ServeSettings = {
    host: '127.0.0.1',
    port: 0,
    bodyLimit: 4096,
    maxInstances: 64,
    linger: true,
    feedback: { channel: `test-${Math.random().toString(36).slice(2)}`, ttlSeconds: 60, maxBytes: 1 << 20 },
    shadow: false,
    ...serve,
  };
  const served = await startRunServer(loaded, settings);
  const abort = new AbortController();
  const outDir = join(dir, 'run');
  // As engram run --serve: the server answers on its own thread, the run turns the event loop as usual.
  const outcome = runPipeline(loaded, {
    outDir,
    signal: abort.signal,
    observe: (e$) => served.observe(e$),
    stages: [served.stage],
  });
  outcome.catch(() => undefined);
  return {
    base: `http://127.0.0.1:${served.address.port}`,
    served,
    outcome,
    outDir,
    stop: () => abort.abort('test'),
    close: async () => {
      abort.abort('test');
      await outcome.catch(() => undefined);
      await served.close();
    },
  };
}

/** POSTs JSON and returns the status and parsed body. */
export async function postJson(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
