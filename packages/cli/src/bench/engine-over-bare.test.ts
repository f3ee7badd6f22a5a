import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { BareLoop } from './bare-loop.bench.js';
import { engineOverBarePaired } from './engine-run.bench.js';
import { EngineBarePairing } from './engine-over-bare.js';

test('the pairing runs a bare step only in on blocks, times neither side at a block’s first step, and divides bare by engine time', async () => {
  const tensorsBefore = tf.memory().numTensors;
  const loop = await BareLoop.create('mlp', 4);
  let bareSteps = 0;
  const counting = { step: () => void bareSteps++ } as unknown as BareLoop;
  try {
    const pairing = new EngineBarePairing(counting, 3);
    // Blocks of 3: steps 0-2 off, 3-5 on, 6-8 off, 9-11 on.
    for (let i = 0; i < 12; i++) pairing.stepEnded();
    assert.equal(bareSteps, 6, 'one bare step per on-block step');
    assert.equal(pairing.bare.length, 4, 'on steps 4, 5, 10, 11 are timed');
    assert.equal(pairing.alternation.off.length, 4, 'off steps 1, 2, 7, 8 are timed');
    const real = new EngineBarePairing(loop, 2);
    for (let i = 0; i < 8; i++) real.stepEnded();
    assert.equal(real.bare.length, 2);
    assert.ok(real.bare.every((ms) => ms > 0));
  } finally {
    loop.dispose();
  }
  assert.equal(tf.memory().numTensors, tensorsBefore, 'the bare loop released its tensors');
});

test('the paired engine ÷ bare benchmark returns a finite ratio from one run and releases every tensor', async () => {
  const before = tf.memory().numTensors;
  const r = await engineOverBarePaired('mlp', 8, 8 * 8, 2);
  assert.ok(Number.isFinite(r) && r > 0, `ratio ${r}`);
  assert.equal(tf.memory().numTensors, before);
});
