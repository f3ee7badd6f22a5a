import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getHeapStatistics } from 'node:v8';
import * as tf from '@tensorflow/tfjs';
import { ServeMetrics } from './serve-metrics.js';

test('scrape-time gauges read their sources when rendered: queue depth, store and failed model builds', async () => {
  let failed = 0;
  let depth = 4;
  const metrics = new ServeMetrics({
    queueDepth: () => depth,
    store: () => ({ bytes: 2048, entries: 3 }),
    failedBuilds: () => failed,
  });
  let text = await metrics.render();
  assert.match(text, /^engram_model_build_failures_total 0$/m);
  assert.match(text, /^engram_queue_depth 4$/m);
  assert.match(text, /^engram_prediction_store_bytes 2048$/m);
  assert.match(text, /^engram_prediction_store_entries 3$/m);
  failed = 2;
  depth = 0;
  text = await metrics.render();
  assert.match(text, /^engram_model_build_failures_total 2$/m);
  assert.match(text, /^engram_queue_depth 0$/m);
});

test('running totals are exposed as Prometheus counters beside the process_ and nodejs_ default metrics', async () => {
  let failed = 1;
  const metrics = new ServeMetrics({
    queueDepth: () => 0,
    store: () => ({ bytes: 0, entries: 0 }),
    failedBuilds: () => failed,
  });
  metrics.setTrained(640, 5);
  metrics.setTrained(1280, 10);
  let text = await metrics.render();
  for (const name of [
    'engram_samples_trained_total',
    'engram_batches_total',
    'engram_dropped_records_total',
    'engram_model_build_failures_total',
  ]) {
    assert.match(text, new RegExp(`^# TYPE ${name} counter$`, 'm'), `${name} is a counter`);
  }
  assert.match(text, /^engram_samples_trained_total 1280$/m);
  assert.match(text, /^engram_batches_total 10$/m);
  assert.match(text, /^engram_model_build_failures_total 1$/m);
  assert.match(text, /^# TYPE process_cpu_seconds_total counter$/m);
  assert.match(text, /^# TYPE nodejs_heap_size_used_bytes gauge$/m);
  // A resumed run counts again from its checkpoint: the series restarts at the lower total.
  metrics.setTrained(320, 3);
  failed = 3;
  text = await metrics.render();
  assert.match(text, /^engram_samples_trained_total 320$/m);
  assert.match(text, /^engram_model_build_failures_total 3$/m);
});

test('engram_tensors reports the serving thread live at scrape time and the training thread as of its last batch end', async () => {
  const metrics = new ServeMetrics({
    queueDepth: () => 0,
    store: () => ({ bytes: 0, entries: 0 }),
    failedBuilds: () => 0,
  });
  let text = await metrics.render();
  assert.doesNotMatch(text, /^engram_tensors\{thread="training"\}/m, 'unknown before the first batch end');
  const live = tf.memory().numTensors;
  assert.match(text, new RegExp(`^engram_tensors\\{thread="serving"\\} ${live}$`, 'm'));
  const held = tf.tensor([1, 2, 3]);
  metrics.setTrained(100, 5, 42);
  text = await metrics.render();
  assert.match(text, /^engram_tensors\{thread="training"\} 42$/m);
  assert.match(text, new RegExp(`^engram_tensors\\{thread="serving"\\} ${live + 1}$`, 'm'));
  held.dispose();
});

test('engram_heap_used_bytes reports the serving thread at scrape time and the training thread as of its last batch end', async () => {
  const metrics = new ServeMetrics({
    queueDepth: () => 0,
    store: () => ({ bytes: 0, entries: 0 }),
    failedBuilds: () => 0,
  });
  let text = await metrics.render();
  assert.doesNotMatch(text, /^engram_heap_used_bytes\{thread="training"\}/m, 'unknown before the first batch end');
  const serving = Number(/^engram_heap_used_bytes\{thread="serving"\} (\d+)$/m.exec(text)?.[1]);
  // The serving figure is this thread's V8 heap: between a megabyte and the heap's limit.
  assert.ok(serving > 1 << 20 && serving < getHeapStatistics().heap_size_limit, String(serving));
  metrics.setTrained(100, 5, 42, 123_456_789);
  text = await metrics.render();
  assert.match(text, /^engram_heap_used_bytes\{thread="training"\} 123456789$/m);
});
