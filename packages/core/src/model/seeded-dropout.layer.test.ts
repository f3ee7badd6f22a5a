import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../random/rng.js';
import { attachDropoutRandom, SeededDropout } from './seeded-dropout.layer.js';

await tf.setBackend('cpu');

let id = 0;
function network(random?: Rng): tf.Sequential {
  const layer = new SeededDropout({ name: `drop${id++}`, rate: 0.5, ...(random ? { random } : {}) });
  return tf.sequential({ layers: [tf.layers.inputLayer({ inputShape: [64] }), layer] });
}

function mask(net: tf.LayersModel): number[] {
  return tf.tidy(() => Array.from((net.apply(tf.ones([1, 64]), { training: true }) as tf.Tensor).dataSync()));
}

test('each dropout layer draws its masks from the generator it was given, not from a shared one', () => {
  const a = network(new Rng(3));
  const b = network(new Rng(3));
  const other = network(new Rng(99));
  const first = mask(a);
  mask(other); // another run's layer drawing in between changes nothing for `b`
  assert.deepEqual(mask(b), first);
  assert.notDeepEqual(mask(a), first, 'a new mask at every call');
  assert.equal(first.filter((v) => v === 0).length > 10 && first.filter((v) => v === 2).length > 10, true);
});

test('a loaded model trains only once its run generator is attached, then with that generator', async () => {
  const saved = network(new Rng(5));
  let artifacts: tf.io.ModelArtifacts | undefined;
  await saved.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts as tf.io.ModelArtifacts));
  assert.throws(() => mask(loaded), /dropout layer "drop\d+" has no random generator/);
  assert.deepEqual(
    tf.tidy(() => Array.from((loaded.predict(tf.ones([1, 2 * 32])) as tf.Tensor).dataSync())),
    new Array(64).fill(1),
    'inference needs no generator',
  );
  attachDropoutRandom(loaded, new Rng(5));
  assert.deepEqual(mask(loaded), mask(network(new Rng(5))));
});
