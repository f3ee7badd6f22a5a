import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { EngramEvent } from '../events/engram-event.js';
import { fixtureDocument, loadFixture } from '../testing/fixture-pipeline.js';
import { runPipeline } from './engine.js';

const out = (): string => mkdtempSync(join(tmpdir(), 'engram-continue-settings-'));

const doc = (optimizer: Record<string, unknown>): Record<string, unknown> =>
  fixtureDocument({
    optimizer,
    training: { epochs: 1, batchSize: 16 },
    checkpoint: { enabled: true },
  });

/** Runs `optimizer`'s pipeline `--from` `earlier` and returns the warnings it said. */
async function continueWith(earlier: string, optimizer: Record<string, unknown>): Promise<string[]> {
  const warnings: string[] = [];
  await runPipeline(await loadFixture(doc(optimizer)), {
    outDir: out(),
    from: earlier,
    warn: (m) => warnings.push(m),
    observe: (events$) =>
      events$.subscribe((e: EngramEvent) => {
        if (e.type === 'warning') warnings.push(e.message);
      }),
  });
  return warnings.filter((m) => m.includes('optimizer'));
}

test('a --from run that changes optimizer settings says each one with its old and new value; the same settings, written out or left to defaults, say nothing', async () => {
  await tf.setBackend('cpu');
  const earlier = out();
  await runPipeline(await loadFixture(doc({ type: 'adam', learningRate: 0.01 })), { outDir: earlier });

  assert.deepEqual(await continueWith(earlier, { type: 'adam', learningRate: 0.005, beta1: 0.8, epsilon: 1e-8 }), [
    "the optimizer's learningRate changed: 0.01 → 0.005 (its adam state carries over)",
    "the optimizer's beta1 changed: 0.9 → 0.8 (its adam state carries over)",
    "the optimizer's epsilon changed: 1e-7 → 1e-8 (its adam state carries over)",
  ]);
  assert.deepEqual(await continueWith(earlier, { type: 'adam', learningRate: 0.01, beta2: 0.999, epsilon: 1e-7 }), []);
  assert.deepEqual(await continueWith(earlier, { type: 'sgd', learningRate: 0.01 }), [
    'the optimizer changed from adam to sgd: its state starts fresh',
  ]);
});

test('every option of an optimizer is compared: momentum, booleans, and a learning rate left to its default', async () => {
  await tf.setBackend('cpu');
  const earlier = out();
  await runPipeline(await loadFixture(doc({ type: 'momentum', useNesterov: true })), { outDir: earlier });
  assert.deepEqual(
    await continueWith(earlier, { type: 'momentum', learningRate: 0.02, momentum: 0.5, useNesterov: false }),
    [
      "the optimizer's learningRate changed: 0.01 → 0.02 (its momentum state carries over)",
      "the optimizer's momentum changed: 0.9 → 0.5 (its momentum state carries over)",
      "the optimizer's useNesterov changed: true → false (its momentum state carries over)",
    ],
  );
});
