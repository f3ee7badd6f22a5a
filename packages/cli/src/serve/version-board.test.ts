import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ModelVersion, snapshotWeights } from './model-version.js';
import { VersionBoard } from './version-board.js';

function network(seed: number): tf.LayersModel {
  const m = tf.sequential();
  m.add(
    tf.layers.dense({
      inputShape: [3],
      units: 5,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed }),
    }),
  );
  m.add(tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }));
  return m;
}

const X = new Float32Array([0.5, -1, 2, 3, 0.25, -0.75]);

test("a version of an unchanged topology is built into a retired version's network and predicts as a freshly built one", async () => {
  await tf.setBackend('cpu');
  const before = tf.memory().numTensors;
  const nets = [network(1), network(2), network(3), network(4)];
  const board = new VersionBoard();
  try {
    // One trained network (its topology and layer names stay) at four moments: its weights are set to each net's.
    const live = nets[0] as tf.LayersModel;
    const snaps = nets.map((n, i) => {
      live.setWeights(n.getWeights());
      return snapshotWeights(live, { version: board.nextNumber(), step: i, experience: 0 });
    });
    const fresh = await Promise.all(snaps.map((s) => ModelVersion.fromSnapshot(s)));
    const expected = fresh.map((v) => Array.from(v.predict(X, 2)));
    for (const v of fresh) v.dispose();
    const served: number[][] = [];
    for (const s of snaps) {
      await board.submit(s);
      served.push(Array.from(board.current?.predict(X, 2) ?? []));
    }
    assert.deepEqual(served, expected);
    // Double buffering: version 1's network takes version 3's weights, version 2's version 4's.
    assert.equal(board.reused, 2, "versions 3 and 4 reuse a retired version's network");
    assert.notDeepEqual(expected[0], expected[1]);
  } finally {
    await board.close();
    for (const n of nets) n.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
});

test('a failed build keeps the previous version served and is reported until a build succeeds again', async () => {
  await tf.setBackend('cpu');
  const before = tf.memory().numTensors;
  const live = network(5);
  const board = new VersionBoard();
  let fail = false;
  board.buildWith(async (s, spare) => {
    if (fail) throw new Error(`no version ${s.version}`);
    return ModelVersion.fromSnapshot(s, undefined, spare);
  });
  try {
    const snapshot = (): ReturnType<typeof snapshotWeights> =>
      snapshotWeights(live, { version: board.nextNumber(), step: 0, experience: 0 });
    await board.submit(snapshot());
    const served = Array.from(board.current?.predict(X, 2) ?? []);
    fail = true;
    await board.submit(snapshot());
    await board.submit(snapshot());
    assert.equal(board.lastError?.message, 'no version 3');
    assert.equal(board.failedBuilds, 2);
    assert.equal(board.current?.info.version, 1, 'version 1 is still served');
    assert.deepEqual(Array.from(board.current?.predict(X, 2) ?? []), served);
    fail = false;
    await board.submit(snapshot());
    assert.equal(board.lastError, undefined, 'cleared by a successful build');
    assert.equal(board.current?.info.version, 4);
    assert.equal(board.failedBuilds, 2);
  } finally {
    await board.close();
    live.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
});
