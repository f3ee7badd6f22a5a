import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { corePlugin, preparePipeline, runPipeline } from '@engram/core';
import { benchPlugin } from './bench.plugin.js';
import { engineEwcOnOverOff } from './engine-run.bench.js';
import { alternatingEwcPlugin, BlockAlternation } from './ewc-alternation.js';

test('block alternation times steps into off and on blocks and gives on throughput ÷ off throughput', () => {
  const a = new BlockAlternation(2);
  // Step 0 only starts the clock; steps 1 (off), 2-3 (on), 4-5 (off), 6-7 (on) are timed.
  const ends = [0, 10, 30, 50, 60, 70, 90, 110];
  const states: boolean[] = [];
  for (const t of ends) {
    states.push(a.isOn);
    a.stepEnded(t);
  }
  assert.deepEqual(states, [false, false, true, true, false, false, true, true]);
  assert.deepEqual(a.off, [10, 10, 10]);
  assert.deepEqual(a.on, [20, 20, 20, 20]);
  assert.equal(a.onOverOff(), 0.5);
  a.restart();
  assert.equal(a.isOn, false);
  a.stepEnded(200);
  assert.equal(a.off.length, 3, 'the first step after a restart is not timed');
  assert.ok(Number.isNaN(new BlockAlternation(3).onOverOff()));
  assert.throws(() => new BlockAlternation(0), /positive integer/);
});

test('the alternating EWC applies its penalty only in on blocks of the measured experience and releases its tensors', async () => {
  const alternation = new BlockAlternation(3);
  const doc = {
    name: 'alternating-ewc', seed: 3, backend: 'cpu', plugins: [],
    data: { kind: 'bench-random', warmupSamples: 32, samples: 8 * 12 },
    model: { layers: [{ type: 'flatten' }, { type: 'dense', units: 8, activation: 'relu' }] },
    optimizer: { type: 'adam', learningRate: 0.01 },
    strategy: { kind: 'bench-ewc-alternating', lambda: 1000 },
    training: { epochs: 1, batchSize: 8, shuffle: false, logEvery: 1 },
    evaluation: { every: 'never', initial: false },
    checkpoint: { enabled: false },
  };
  const out = mkdtempSync(join(tmpdir(), 'engram-alt-'));
  const penalties: number[] = [];
  const tensorsBefore = tf.memory().numTensors;
  try {
    const loaded = await preparePipeline(doc, join(out, 'p.json'), { builtins: [corePlugin, benchPlugin, alternatingEwcPlugin(alternation)] });
    await runPipeline(loaded, {
      outDir: out,
      observe: (events$) => events$.subscribe((e) => {
        if (e.type === 'batch-end' && e.experience === 1) penalties.push(e.penalty);
      }),
    });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  assert.equal(tf.memory().numTensors, tensorsBefore, 'the run and its EWC release every tensor');
  assert.equal(penalties.length, 12);
  // Blocks of 3: steps 0-2 off, 3-5 on, 6-8 off, 9-11 on. The penalty is 0 at step 3 (the weights
  // have not moved from θ* yet) and grows after it.
  const on = (i: number): boolean => Math.floor(i / 3) % 2 === 1;
  penalties.forEach((p, i) => {
    if (!on(i)) assert.equal(p, 0, `step ${i} is off`);
    else if (i !== 3) assert.ok(p > 0, `step ${i} is on, penalty ${p}`);
  });
  assert.equal(alternation.off.length, 5);
  assert.equal(alternation.on.length, 6);
  assert.ok(alternation.onOverOff() > 0 && Number.isFinite(alternation.onOverOff()));
});

test('the paired EWC benchmark returns a finite on ÷ off ratio from one run', async () => {
  const r = await engineEwcOnOverOff('mlp', 8, 8 * 8, 2);
  assert.ok(Number.isFinite(r) && r > 0, `ratio ${r}`);
});
