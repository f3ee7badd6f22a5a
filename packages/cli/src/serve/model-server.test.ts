import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { postJson, startServedRun, testPipeline } from './testing/served-run.js';

const temp = (): string => mkdtempSync(join(tmpdir(), 'engram-serve-'));

test(
  'a served finite run answers predict, healthz, readyz and metrics, and bad requests get 400 with the JSON path, ' +
    '413 and 404',
  async () => {
    const dir = temp();
    const before = tf.memory().numTensors;
    const run = await startServedRun(testPipeline('serve-basic'), dir);
    try {
      const health = await fetch(`${run.base}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'ok' });
      await run.outcome;
      await run.served.settled();

      const ready = (await (await fetch(`${run.base}/readyz`)).json()) as {
        ready: boolean;
        model: { version: number; step: number };
      };
      assert.equal(ready.ready, true);
      // Two experiences (classes 0-1, then 2): 192 and 96 training samples, batch 16, 2 epochs → 24 + 12 = 36 steps.
      assert.equal(ready.model.step, 36);

      const p = await postJson(`${run.base}/predict`, {
        instances: [
          [0, 0, 0, 0],
          [1, 2, 3, 4],
        ],
      });
      assert.equal(p.status, 200);
      const preds = p.body.predictions as Array<{ id: string; label: number; probabilities: number[] }>;
      assert.equal(preds.length, 2);
      for (const x of preds) {
        assert.equal(x.probabilities.length, 3);
        assert.ok(Math.abs(x.probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-5);
        assert.equal(x.label, x.probabilities.indexOf(Math.max(...x.probabilities)));
        assert.match(x.id, /^[0-9a-f-]{36}$/);
      }
      assert.deepEqual(p.body.model, { version: ready.model.version, step: 36, experience: 1 });

      const short = await postJson(`${run.base}/predict`, {
        instances: [
          [0, 0, 0, 0],
          [1, 2],
        ],
      });
      assert.equal(short.status, 400);
      assert.equal(short.body.path, '/instances/1');
      assert.match(String(short.body.error), /expected 4 numbers/);
      const notNumber = await postJson(`${run.base}/predict`, { instances: [[0, 'a', 0, 0]] });
      assert.equal(notNumber.status, 400);
      assert.equal(notNumber.body.path, '/instances/0/1');
      const missing = await postJson(`${run.base}/predict`, { rows: [] });
      assert.equal(missing.status, 400);
      assert.match(String(missing.body.path), /^\/(instances|rows)?$/);
      const badJson = await postJson(`${run.base}/predict`, '{"instances": [');
      assert.equal(badJson.status, 400);
      const big = await postJson(`${run.base}/predict`, {
        instances: Array.from({ length: 100 }, () => [0.123456789, 0.123456789, 0.123456789, 0.123456789]),
      });
      assert.equal(big.status, 413);
      const tooMany = await postJson(`${run.base}/predict`, {
        instances: Array.from({ length: 65 }, () => [0, 0, 0, 0]),
      });
      assert.equal(tooMany.status, 400);
      assert.equal(tooMany.body.path, '/instances');
      const nowhere = await fetch(`${run.base}/nowhere`);
      assert.equal(nowhere.status, 404);

      // No feedback source in this pipeline: a clear 409; an unknown id of a feedback-less run says so before the id.
      const fb = await postJson(`${run.base}/feedback`, { id: preds[0]?.id, y: 1 });
      assert.equal(fb.status, 409);
      assert.equal(fb.body.reason, 'no-feedback-source');
      const badFb = await postJson(`${run.base}/feedback`, { id: 'x' });
      assert.equal(badFb.status, 400);
      assert.equal(badFb.body.path, '/y');

      const metrics = await (await fetch(`${run.base}/metrics`)).text();
      assert.match(metrics, /^engram_predictions_total 2$/m);
      assert.match(metrics, /^engram_batches_total 36$/m);
      assert.match(metrics, /^engram_samples_trained_total 576$/m);
      assert.match(metrics, /^engram_model_step 36$/m);
      assert.match(metrics, /^engram_prediction_latency_seconds_count 1$/m);
      assert.match(metrics, /^engram_checkpoint_duration_seconds_count [1-9]/m);
      assert.match(metrics, /^engram_loss \d/m);
      assert.match(metrics, /^engram_prediction_store_entries 2$/m);
      assert.match(metrics, /^engram_model_build_failures_total 0$/m);
      // (after the metrics: a finite edge prediction below would count as one more)
      // Numbers beyond float32's range would reach the model as ±Infinity: 400, never null probabilities.
      for (const [v, at] of [
        [1e39, 0],
        [-1e39, 3],
        [1e308, 2],
      ] as const) {
        const row = [0.5, 0.5, 0.5, 0.5];
        row[at] = v;
        const huge = await postJson(`${run.base}/predict`, { instances: [[0, 0, 0, 0], row] });
        assert.equal(huge.status, 400, `${v}`);
        assert.equal(huge.body.path, `/instances/1/${at}`);
        assert.match(String(huge.body.error), /not a finite float32 number/);
      }
      // The largest float32 values are accepted as numbers, but an output that overflows is refused too.
      const edge = await postJson(`${run.base}/predict`, { instances: [[3.4e38, 3.4e38, -3.4e38, 3.4e38]] });
      if (edge.status === 200) {
        const probs = (edge.body.predictions as Array<{ probabilities: unknown[] }>)[0]?.probabilities ?? [];
        assert.ok(
          probs.every((v) => typeof v === 'number' && Number.isFinite(v)),
          JSON.stringify(probs),
        );
      } else {
        assert.equal(edge.status, 400);
        assert.match(String(edge.body.error), /^\/instances\/0: the model's output for this instance is not finite/);
      }
    } finally {
      await run.close();
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(tf.memory().numTensors, before, 'the served versions and the run free every tensor');
  },
);

test('GET /events streams the run as Server-Sent Events, replaying run-start and evaluations to a late client', async () => {
  const dir = temp();
  const run = await startServedRun(testPipeline('serve-events'), dir);
  try {
    await run.outcome;
    const res = await fetch(`${run.base}/events`);
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('event: run-end')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    await reader.cancel();
    const types = [...text.matchAll(/^event: (.+)$/gm)].map((m) => m[1]);
    assert.equal(types[0], 'run-start');
    assert.ok(types.includes('evaluation'));
    assert.ok(types.includes('batch-end'));
    const data = text.split('\n').find((l) => l.startsWith('data: {"type":"run-start"'));
    assert.equal((JSON.parse((data ?? '').slice(6)) as { name: string }).name, 'serve-events');
  } finally {
    await run.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
