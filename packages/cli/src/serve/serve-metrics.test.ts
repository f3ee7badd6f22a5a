import assert from 'node:assert/strict';
import { test } from 'node:test';
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
