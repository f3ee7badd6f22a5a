/**
 * The serving thread of `engram run --serve` (a `worker_threads` Worker started by {@link ServeThread}).
 *
 * Training holds its thread for a whole optimizer step (milliseconds of synchronous kernels) and for
 * the synchronous parts of evaluation and checkpoints; a request handled on that thread waits for
 * them. Here the HTTP server, the model versions and the predictions run on their own thread, on the
 * tfjs `cpu` backend (exact and reproducible, no second native or wasm runtime), and the training
 * thread only posts messages: run events, snapshots of the weights, the feedback channel's status.
 * A POST /feedback record travels back to the training thread's `feedback` source by message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { EngramEvent, StreamInfo } from '@engram/core';
import { buildPredictionView } from '@engram/core/internal';
import { Subject } from 'rxjs';
import { loadPipelineFile } from '../cli-context.js';
import { RelayedChannels } from './channel-relay.js';
import { ModelServer } from './model-server.js';
import { ModelVersion } from './model-version.js';
import type { FromServeThread, ServeWorkerData, ToServeThread } from './serve-messages.js';
import { servedData, type ServedData } from './served-data.js';

if (!parentPort) throw new Error('serve-worker runs as a worker thread of engram run --serve');
const port = parentPort;
const init = workerData as ServeWorkerData;
const post = (m: FromServeThread): void => port.postMessage(m);

/**
 * The backend of this thread's versions: `cpu` when the run trains on `cpu` (the same kernels, so
 * the same numbers), else tfjs' wasm backend (XNNPACK) without Engram's native kernels, which are
 * the training thread's; `cpu` when wasm cannot start.
 */
async function useBackend(training: string): Promise<void> {
  if (training !== 'cpu') {
    try {
      await import('@tensorflow/tfjs-backend-wasm');
      if (await tf.setBackend('wasm')) return;
    } catch {
      // fall through to cpu
    }
  }
  await tf.setBackend('cpu');
}

async function start(): Promise<void> {
  // PROD: no debug checks, and no console banner suggesting tfjs-node.
  tf.env().set('PROD', true);
  // Loaded while the server starts listening (the run waits for `listening`, not for this).
  const pipeline = loadPipelineFile(init.file, init.extraPlugins, 'any', init.sets).then((loaded) => {
    if (JSON.stringify(loaded.definition) !== init.definition)
      throw new Error(`${init.file} changed after the run loaded it; the server cannot predict as the run does`);
    return loaded;
  });
  pipeline.catch(() => undefined); // reported by the first build that needs it
  const { settings } = init;
  let info: StreamInfo | undefined;
  let data: ServedData | undefined;
  const relay = new RelayedChannels((r) => post(r));
  const server = new ModelServer({
    host: settings.host,
    port: settings.port,
    bodyLimit: settings.bodyLimit,
    maxInstances: settings.maxInstances,
    feedback: settings.feedback,
    data: () => data,
    channels: (name) => relay.channel(name),
    ...(init.doors ? { doors: init.doors } : {}),
    ...(settings.promote ? { promote: settings.promote } : {}),
    shadow: settings.shadow,
  });
  // A version predicts as the run's evaluation: its network seen through fresh components of the
  // pipeline restored from the states published with the weights.
  server.board.buildWith((s, spare) =>
    ModelVersion.fromSnapshot(
      s,
      async (network, snap) => {
        if (!info) throw new Error('no run to build a model version for');
        return buildPredictionView(await pipeline, network, snap.states, info);
      },
      spare,
    ),
  );
  server.board.onPublish((v) => post({ type: 'published', info: v.info }));
  server.board.onDecision((decision) => post({ type: 'decision', decision }));
  const events = new Subject<EngramEvent>();
  server.observe(events);
  // Whether the failing state of version builds was reported: each run of failures is reported once,
  // when it starts (a build that fails every time does not flood the run's output).
  let reportedFailing = false;
  // Versions are built once this thread's backend is chosen (from the run's, sent with `info`);
  // snapshots and settle requests are handled in the order they came.
  let backend: Promise<void> | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  port.on('message', (m: ToServeThread) => {
    switch (m.type) {
      case 'info':
        info = m.info;
        data = servedData(m.info);
        backend ??= useBackend(m.backend);
        break;
      case 'event':
        if (m.trained)
          server.metrics.setTrained(m.trained.samples, m.trained.step, m.trained.tensors, m.trained.heapUsed);
        events.next(m.event);
        break;
      case 'channel':
        relay.update(m.status);
        break;
      case 'snapshot':
        queue = queue
          .then(() => (backend ??= useBackend('cpu')))
          .then(() => {
            void server.board.submit(m.snapshot).then(() => {
              const e = server.board.lastError;
              if (e && !reportedFailing) post({ type: 'build-failed', message: e.message });
              reportedFailing = e !== undefined;
            });
          });
        break;
      case 'held-out':
        server.samples?.holdOut(m.slice);
        break;
      case 'settle':
        queue = queue
          .then(() => server.board.settled())
          .then(() => post({ type: 'settled', rid: m.rid, info: server.board.current?.info }));
        break;
      case 'pushed':
      case 'push-failed':
        relay.settle(m);
        break;
      case 'close':
        relay.abandon('the run has ended');
        events.complete();
        void server.close().then(() => port.close());
        break;
    }
  });
  const address = await server.listen();
  post({ type: 'listening', address });
}

start().catch((e: unknown) => {
  post({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
  port.close();
});
