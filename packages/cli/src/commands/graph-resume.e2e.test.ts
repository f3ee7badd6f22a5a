import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deterministicSummary, finalDigest, runEngram } from './e2e-harness.js';

/**
 * A tiny split-MNIST run on a graph model: a strided conv stem, a residual block with batch norm and a
 * 1×1 projection shortcut, dropout, a 1×1 side branch joined by `concatenate`, global average pooling; a
 * head grown by grow-head; replay and EWC
 * (its Fisher over a graph) together; a checkpoint every 2 batches.
 */
const pipeline = {
  name: 'tiny-graph',
  seed: 11,
  backend: 'cpu',
  plugins: ['@engram/datasets', '@engram/strategies'],
  data: {
    kind: 'mnist',
    scenario: { type: 'class-incremental', experiences: 3 },
    testFraction: 0.2,
    limitPerClass: 10,
  },
  model: {
    graph: {
      nodes: [
        { name: 'stem', type: 'conv2d', filters: 4, kernelSize: 3, strides: 2, padding: 'same', inputs: ['input'] },
        { name: 'stem_bn', type: 'batchNormalization', inputs: ['stem'] },
        { name: 'stem_relu', type: 'activation', activation: 'relu', inputs: ['stem_bn'] },
        { name: 'conv', type: 'conv2d', filters: 6, kernelSize: 3, padding: 'same', inputs: ['stem_relu'] },
        { name: 'conv_bn', type: 'batchNormalization', inputs: ['conv'] },
        { name: 'short', type: 'conv2d', filters: 6, kernelSize: 1, inputs: ['stem_relu'] },
        { name: 'sum', type: 'add', inputs: ['conv_bn', 'short'] },
        { name: 'drop', type: 'dropout', rate: 0.2, inputs: ['sum'] },
        { name: 'side', type: 'conv2d', filters: 2, kernelSize: 1, inputs: ['stem_relu'] },
        { name: 'cat', type: 'concatenate', inputs: ['drop', 'side'] },
        { name: 'pool', type: 'globalAveragePooling2d', inputs: ['cat'] },
      ],
    },
    head: { units: 2 },
  },
  adjust: [{ kind: 'grow-head' }],
  optimizer: { type: 'adam', learningRate: 0.01 },
  strategy: [
    { kind: 'replay', bufferSize: 30 },
    { kind: 'ewc', lambda: 100 },
  ],
  training: { epochs: 1, batchSize: 8 },
  evaluation: { on: 'all', initial: true },
  checkpoint: { everyBatches: 2, keep: 3 },
};

const checkpointAt =
  (step: number) =>
  (line: string): boolean =>
    line.startsWith('{"type":"checkpoint"') && line.includes(`"step":${step},`);
const eventIs =
  (type: string, field: string) =>
  (line: string): boolean =>
    line.startsWith(`{"type":"${type}"`) && line.includes(field);

describe(
  'resume after SIGKILL (graph model: residual block, batch norm, concatenate, grown head, replay + EWC)',
  { timeout: 1_800_000 },
  () => {
    it('ends with the same summary metrics and bit-identical weights and optimizer state as an uninterrupted run', async () => {
      const work = mkdtempSync(join(tmpdir(), 'engram-graph-resume-'));
      const file = join(work, 'p.pipeline.json');
      writeFileSync(file, JSON.stringify(pipeline));
      const reference = await runEngram(file, join(work, 'ref'), []);
      assert.equal(reference.code, 0, reference.stderr);
      const out = join(work, 'killed');
      const kills = [
        checkpointAt(6),
        eventIs('experience-end', '"experience":1,'),
        eventIs('batch-end', '"experience":2,'),
      ];
      let first = true;
      for (const killWhen of kills) {
        const r = await runEngram(file, out, first ? [] : ['--resume'], { killWhen, signal: 'SIGKILL' });
        assert.equal(r.signal, 'SIGKILL', `run was not killed: ${r.stderr}`);
        if (!first) assert.ok((r.firstCheckpointStep ?? Infinity) > 2, `resumed run started over`);
        first = false;
      }
      const last = await runEngram(file, out, ['--resume']);
      assert.equal(last.code, 0, last.stderr);
      assert.deepEqual(deterministicSummary(out), deterministicSummary(join(work, 'ref')));
      assert.deepEqual(finalDigest(out), finalDigest(join(work, 'ref')));
    });
  },
);
