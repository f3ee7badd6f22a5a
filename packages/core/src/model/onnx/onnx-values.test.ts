import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../random/rng.js';
import { transposeData } from './onnx-values.js';

/** numpy's `transpose` by its definition: out[i₀…] = data[j] with j the input index of the permuted coordinates. */
function referenceTranspose(data: Float32Array, dims: readonly number[], perm: readonly number[]): Float32Array {
  const outDims = perm.map((p) => dims[p] ?? 1);
  const out = new Float32Array(data.length);
  for (let o = 0; o < out.length; o++) {
    const coord = new Array<number>(dims.length).fill(0);
    let rest = o;
    for (let k = outDims.length - 1; k >= 0; k--) {
      const n = outDims[k] ?? 1;
      coord[perm[k] ?? 0] = rest % n;
      rest = Math.floor(rest / n);
    }
    const src = coord.reduce((acc, c, i) => acc * (dims[i] ?? 1) + c, 0);
    out[o] = data[src] ?? NaN;
  }
  return out;
}

test('transposeData equals numpy-style transposition for random shapes (size-1 axes, merged axes) and permutations', () => {
  const rng = new Rng(32);
  for (let trial = 0; trial < 300; trial++) {
    const rank = 1 + rng.int(5);
    const dims = Array.from({ length: rank }, () => 1 + rng.int(rng.next() < 0.2 ? 1 : 5));
    const perm = Array.from(rng.permutation(rank));
    const n = dims.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: n }, (_, i) => i + rng.next());
    assert.deepEqual(
      transposeData(data, dims, perm),
      referenceTranspose(data, dims, perm),
      `dims ${dims.join(',')} perm ${perm.join(',')}`,
    );
  }
});

test('transposeData moves conv kernels between ONNX [out, in, kh, kw] and tfjs [kh, kw, in, out] and back unchanged', () => {
  const rng = new Rng(5);
  const [o, i, kh, kw] = [7, 5, 3, 2];
  const onnx = Float32Array.from({ length: o * i * kh * kw }, () => rng.normal());
  const tfjs = transposeData(onnx, [o, i, kh, kw], [2, 3, 1, 0]);
  assert.deepEqual(tfjs, referenceTranspose(onnx, [o, i, kh, kw], [2, 3, 1, 0]));
  assert.deepEqual(transposeData(tfjs, [kh, kw, i, o], [3, 2, 0, 1]), onnx);
});

test('transposeData of an empty tensor or the identity permutation is a copy, never the input array', () => {
  const data = Float32Array.of(1, 2, 3, 4, 5, 6);
  const same = transposeData(data, [2, 3], [0, 1]);
  assert.deepEqual(same, data);
  assert.notEqual(same, data);
  assert.equal(transposeData(new Float32Array(0), [0, 3], [1, 0]).length, 0);
});
