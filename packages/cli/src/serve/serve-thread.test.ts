import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { startServedRun, testPipeline } from './testing/served-run.js';
import { patience } from '../testing/patience.js';

// A client on its own thread: POSTs one prediction and flags the answer (1: predictions, 2: anything else).
const CLIENT = `
const { workerData } = require('node:worker_threads');
const flag = new Int32Array(workerData.flag);
fetch(workerData.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: [[0.5, -1, 2, 0]] }) })
  .then((r) => r.json())
  .then((b) => Atomics.store(flag, 0, Array.isArray(b.predictions) ? 1 : 2), () => Atomics.store(flag, 0, 2))
  .finally(() => Atomics.notify(flag, 0));
`;

test('the server of a run answers a prediction while the training thread is held in synchronous work', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-serve-thread-'));
  const run = await startServedRun(testPipeline('serve-thread'), dir);
  try {
    await run.outcome;
    const served = await run.served.settled();
    assert.ok(served, 'a version is served');
    const flag = new SharedArrayBuffer(4);
    const client = new Worker(CLIENT, { eval: true, workerData: { url: `${run.base}/predict`, flag } });
    // This thread (the run's) now blocks until the answer arrives: a server on this thread could not
    // answer before the wait gives up, so the flag would still be 0.
    const waited = Atomics.wait(new Int32Array(flag), 0, 0, patience(30_000));
    await client.terminate();
    assert.notEqual(waited, 'timed-out', 'the answer came while this thread was blocked');
    assert.equal(new Int32Array(flag)[0], 1, 'the answer holds predictions');
  } finally {
    await run.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
