import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { skipNative } from './testing/backend-harness.js';

const indexUrl = new URL('./index.js', import.meta.url).href;
const harnessUrl = new URL('./testing/backend-harness.js', import.meta.url).href;

/** Runs load() (and one matMul) in a child process with the given BLAS override. */
function loadWith(blasLib: string): { loaded: boolean; description: string; kernels: string[]; product: number[] } {
  const script = `
    import * as tf from '@tensorflow/tfjs';
    import { useWasmNative } from ${JSON.stringify(harnessUrl)};
    import { nativeKernels } from ${JSON.stringify(indexUrl)};
    const result = await useWasmNative();
    const product = Array.from(tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync());
    console.log(JSON.stringify({ ...result, kernels: nativeKernels(), product }));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    cwd: new URL('.', import.meta.url),
    env: { ...process.env, ENGRAM_BLAS_LIB: blasLib },
  });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as ReturnType<typeof loadWith>;
}

describe('load() without a usable BLAS', { skip: skipNative }, () => {
  it('refuses a library that is not OpenBLAS, says why, and leaves the wasm kernels working', () => {
    const result = loadWith('libc.so.6');
    assert.equal(result.loaded, false);
    assert.match(result.description, /^no BLAS: libc\.so\.6 is not OpenBLAS/);
    assert.deepEqual(result.kernels, []);
    assert.deepEqual(result.product, [11]);
  });

  it('reports a missing library as the reason', () => {
    const result = loadWith('/nonexistent/libopenblas.so.0');
    assert.equal(result.loaded, false);
    assert.match(result.description, /^no BLAS: \/nonexistent\/libopenblas\.so\.0: /);
  });
});
