import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deterministicSummary, finalDigest, runEngram } from './e2e-harness.js';

/**
 * Tiny split MNIST with every training control on: AdamW, clipping, a cosine schedule over the run with
 * warm-up (per step), a validation split and early stopping; a checkpoint every 2 batches.
 */
const PIPELINE = {
  name: 'controls',
  seed: 11,
  backend: 'cpu',
  plugins: ['@engram/datasets', '@engram/strategies'],
  data: {
    kind: 'mnist',
    scenario: { type: 'class-incremental', experiences: 3 },
    testFraction: 0.2,
    limitPerClass: 30,
  },
  model: { layers: [{ type: 'flatten' }, { type: 'dense', units: 16, activation: 'relu' }] },
  optimizer: {
    type: 'adamw',
    learningRate: 0.02,
    weightDecay: 0.05,
    schedule: { type: 'cosine', interval: 'step', scope: 'run', warmup: 6, period: 120, minLearningRate: 0.001 },
  },
  strategy: { kind: 'ewc', lambda: 50 },
  training: {
    epochs: 6,
    batchSize: 8,
    clipNorm: 2,
    validation: { fraction: 0.25, earlyStopping: { patience: 1, metric: 'accuracy', restoreBest: true } },
  },
  evaluation: { on: 'all', initial: false },
  checkpoint: { everyBatches: 2, keep: 3 },
};

interface EpochEnd {
  experience: number;
  epoch: number;
  loss: number;
  learningRate?: number;
  validationLoss?: number;
  validationAccuracy?: number;
  stoppedEarly?: boolean;
}

/** The last epoch-end event of every (experience, epoch) in metrics.jsonl, without seq and time. */
function epochEnds(dir: string): EpochEnd[] {
  const byKey = new Map<string, EpochEnd>();
  for (const line of readFileSync(join(dir, 'metrics.jsonl'), 'utf8').split('\n')) {
    if (!line.startsWith('{"type":"epoch-end"')) continue;
    const { seq: _seq, time: _time, ...e } = JSON.parse(line) as EpochEnd & { seq: number; time: number };
    byKey.set(`${e.experience}:${e.epoch}`, e);
  }
  return [...byKey.values()].sort((a, b) => a.experience - b.experience || a.epoch - b.epoch);
}

describe('training controls across a SIGKILL', () => {
  it('a run killed during warm-up, mid-cosine and after an early stop resumes bit-identical to an uninterrupted one', async () => {
    const work = mkdtempSync(join(tmpdir(), 'engram-controls-'));
    const file = join(work, 'p.pipeline.json');
    writeFileSync(file, JSON.stringify(PIPELINE));
    const ref = await runEngram(file, join(work, 'ref'), []);
    assert.equal(ref.code, 0, ref.stderr);
    const reference = epochEnds(join(work, 'ref'));
    // The case is what it claims: a warm-up, a rate that moves, validation figures and an early stop.
    const rates = reference.map((e) => e.learningRate ?? NaN);
    assert.ok(
      rates.every((r) => r > 0.001 && r <= 0.02),
      `rates ${rates.join(', ')}`,
    );
    assert.ok(new Set(rates).size === rates.length, 'the scheduled rate changes every epoch');
    assert.ok(reference.every((e) => typeof e.validationAccuracy === 'number' && typeof e.validationLoss === 'number'));
    const stopped = reference.filter((e) => e.stoppedEarly === true);
    assert.ok(stopped.length > 0, 'early stopping ended at least one experience');
    assert.ok(reference.length < 18, `early stopping skipped epochs (${reference.length} of 18 ran)`);

    const out = join(work, 'killed');
    const stop = stopped[0] as EpochEnd;
    const kills = [
      (l: string) => l.startsWith('{"type":"checkpoint"') && l.includes('"step":4,'), // inside the warm-up
      (l: string) => l.startsWith('{"type":"epoch-end"') && l.includes('"stoppedEarly":true'), // right after an early stop
      (l: string) =>
        l.startsWith('{"type":"batch-end"') && l.includes(`"experience":${Math.min(2, stop.experience + 1)},`),
    ];
    let first = true;
    for (const killWhen of kills) {
      const r = await runEngram(file, out, first ? [] : ['--resume'], { killWhen, signal: 'SIGKILL' });
      assert.equal(r.signal, 'SIGKILL', `run was not killed: ${r.stderr}`);
      first = false;
    }
    const last = await runEngram(file, out, ['--resume']);
    assert.equal(last.code, 0, last.stderr);
    assert.deepEqual(epochEnds(out), reference);
    assert.deepEqual(deterministicSummary(out), deterministicSummary(join(work, 'ref')));
    assert.deepEqual(finalDigest(out), finalDigest(join(work, 'ref')));
  });
});
