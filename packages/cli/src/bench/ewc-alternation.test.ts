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

test('block alternation times the steps inside off and on blocks and gives on throughput ÷ off throughput', () => {
  const a = new BlockAlternation(3);
  // Blocks of 3: steps 0-2 off, 3-5 on, 6-8 off, 9-11 on. Step 0 only starts the clock, and the first
  // step of each block (3, 6, 9) is not timed.
  const ends = [0, 10, 20, 35, 55, 75, 90, 100, 110, 125, 145, 165];
  const states: boolean[] = [];
  for (const t of ends) {
    states.push(a.isOn);
    a.stepEnded(t);
  }
  assert.deepEqual(states, [false, false, false, true, true, true, false, false, false, true, true, true]);
  assert.deepEqual(a.off, [10, 10, 10, 10]);
  assert.deepEqual(a.on, [20, 20, 20, 20]);
  assert.equal(a.onOverOff(), 0.5);
  a.restart();
  assert.equal(a.isOn, false);
  a.stepEnded(200);
  a.stepEnded(230);
  assert.deepEqual(a.off, [10, 10, 10, 10, 30], 'after a restart the clock starts again at step 0');
  assert.ok(Number.isNaN(new BlockAlternation(3).onOverOff()));
  assert.throws(() => new BlockAlternation(0), /positive integer/);
});

test('with blocks of one step every step after the first is timed', () => {
  const a = new BlockAlternation(1);
  for (const t of [0, 10, 30, 40, 60]) a.stepEnded(t);
  assert.deepEqual(a.on, [10, 10]);
  assert.deepEqual(a.off, [20, 20]);
});

test('the alternating EWC applies its penalty only in on blocks of the measured experience and releases its tensors', async () => {
  const alternation = new BlockAlternation(3);
  const doc = {
    name: 'alternating-ewc',
    seed: 3,
    backend: 'cpu',
    plugins: [],
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
    const loaded = await preparePipeline(doc, join(out, 'p.json'), {
      builtins: [corePlugin, benchPlugin, alternatingEwcPlugin(alternation)],
    });
    await runPipeline(loaded, {
      outDir: out,
      observe: (events$) =>
        events$.subscribe((e) => {
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
  // Timed: off steps 1, 2, 7, 8 and on steps 4, 5, 10, 11 (each block's first step is not).
  assert.equal(alternation.off.length, 4);
  assert.equal(alternation.on.length, 4);
  assert.ok(alternation.onOverOff() > 0 && Number.isFinite(alternation.onOverOff()));
});

test('the paired EWC benchmark returns a finite on ÷ off ratio from one run', async () => {
  const r = await engineEwcOnOverOff('mlp', 8, 8 * 8, 2);
  assert.ok(Number.isFinite(r) && r > 0, `ratio ${r}`);
});
