import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { skipNative } from './testing/backend-harness.js';

const harnessUrl = new URL('./testing/backend-harness.js', import.meta.url).href;
const addonUrl = new URL('./addon/native-addon.js', import.meta.url).href;
const indexUrl = new URL('./index.js', import.meta.url).href;

interface ThreadCounts {
  readonly blasThreads: number;
  readonly start: number;
  readonly afterSmall: number;
  readonly afterLarge: number;
  readonly smallProduct: number;
}

/**
 * In a fresh process with two BLAS threads: OS threads after start-up, after the work of a one-sample
 * online step on a 784×400 layer (forward, both backward GEMMs, an Adam update of its 313,600
 * parameters), and after one large GEMM. A parallel region makes libgomp start its worker thread.
 */
function countThreads(): ThreadCounts {
  const script = `
    import { readdirSync } from 'node:fs';
    import * as tf from '@tensorflow/tfjs';
    import { useWasmNative } from ${JSON.stringify(harnessUrl)};
    import { loadAddon } from ${JSON.stringify(addonUrl)};
    import { blasStatus } from ${JSON.stringify(indexUrl)};
    const tasks = () => readdirSync('/proc/self/task').length;
    const result = await useWasmNative();
    if (!result.loaded) throw new Error(result.description);
    const loaded = loadAddon();
    if (!('addon' in loaded)) throw new Error(loaded.error);
    const blasThreads = blasStatus()?.threads ?? 0;
    tf.tidy(() => tf.matMul(tf.ones([2, 2]), tf.ones([2, 2])).dataSync());
    const start = tasks();
    const x = tf.ones([1, 784]), w = tf.ones([784, 400]), d = tf.ones([1, 400]);
    const y = tf.matMul(x, w), dx = tf.matMul(d, w, false, true), dw = tf.matMul(x, d, true, false);
    const smallProduct = y.dataSync()[0];
    dx.dataSync(); dw.dataSync();
    const n = 784 * 400, heap = new ArrayBuffer(n * 16);
    loaded.addon.adam(heap, 0, n * 4, n * 8, n * 12, n, 0.9, 0.1, 0.999, 0.001, 0.1, 0.001, 1e-7, -1e-3);
    const afterSmall = tasks();
    tf.tidy(() => tf.matMul(tf.ones([256, 784]), tf.ones([784, 400])).dataSync());
    const afterLarge = tasks();
    tf.dispose([x, w, d, y, dx, dw]);
    console.log(JSON.stringify({ blasThreads, start, afterSmall, afterLarge, smallProduct }));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    cwd: new URL('.', import.meta.url),
    env: { ...process.env, OMP_NUM_THREADS: '2' },
  });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as ThreadCounts;
}

describe('small work stays on the calling thread', { skip: skipNative }, () => {
  it('runs a one-sample step of a 784×400 layer without waking a BLAS thread, and a large GEMM with one', (t) => {
    const counts = countThreads();
    if (counts.blasThreads < 2) {
      t.skip(`OpenBLAS runs ${counts.blasThreads} thread here`);
      return;
    }
    assert.equal(counts.smallProduct, 784);
    assert.equal(counts.afterSmall, counts.start, 'small GEMMs and the Adam update started no thread');
    assert.ok(
      counts.afterLarge > counts.afterSmall,
      `a 256×784×400 GEMM runs in parallel (${counts.afterSmall} → ${counts.afterLarge} threads)`,
    );
  });
});
