import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodePng } from '@engram/datasets';
import { deterministicSummary, finalDigest, runEngram } from './e2e-harness.js';

/** `dir/<c>/<i>.png`: 3 classes x 16 RGB 8x8 images, class-dependent colour and a per-image gradient. */
function writeTree(dir: string): void {
  for (let c = 0; c < 3; c++) {
    mkdirSync(join(dir, `class-${c}`), { recursive: true });
    for (let i = 0; i < 16; i++) {
      const px = new Uint8Array(8 * 8 * 3);
      for (let p = 0; p < 64; p++) {
        px[p * 3 + c] = 120 + ((p * 7 + i * 13) % 120);
        px[p * 3 + ((c + 1) % 3)] = (p * 3 + i * 5) % 60;
      }
      writeFileSync(join(dir, `class-${c}`, `${i}.png`), encodePng(8, 8, 3, px));
    }
  }
}

describe('resume after SIGKILL of an image-folder run with seeded augmentation', { timeout: 300_000 }, () => {
  it('ends with the same metrics and bit-identical weights as an uninterrupted run', async () => {
    const work = mkdtempSync(join(tmpdir(), 'engram-images-resume-'));
    writeTree(join(work, 'images'));
    const file = join(work, 'p.pipeline.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'images',
        seed: 11,
        backend: 'cpu',
        plugins: ['@engram/datasets', '@engram/strategies'],
        data: {
          kind: 'image-folder',
          root: 'images',
          threads: 2,
          prefetch: 2,
          testFraction: 0.25,
          scenario: { type: 'class-incremental', classesPerExperience: 1 },
        },
        preprocess: [
          { kind: 'random-crop', padding: 1 },
          { kind: 'horizontal-flip' },
          { kind: 'color-jitter', brightness: 0.3, contrast: 0.3, saturation: 0.3 },
          { kind: 'normalize' },
        ],
        model: {
          layers: [
            { type: 'conv2d', filters: 4, kernelSize: 3, activation: 'relu' },
            { type: 'flatten' },
            { type: 'dense', units: 8, activation: 'relu' },
          ],
        },
        optimizer: { type: 'adam', learningRate: 0.01 },
        strategy: { kind: 'replay', bufferSize: 12 },
        training: { epochs: 2, batchSize: 4 },
        evaluation: { on: 'all' },
        checkpoint: { everyBatches: 2, keep: 3 },
      }),
    );
    const reference = await runEngram(file, join(work, 'ref'), []);
    assert.equal(reference.code, 0, reference.stderr);
    const out = join(work, 'killed');
    // mid-epoch of experience 0 right after a checkpoint, then mid-epoch of experience 2
    const kills = [
      (l: string) => l.startsWith('{"type":"checkpoint"') && l.includes('"step":4,'),
      (l: string) => l.startsWith('{"type":"batch-end"') && l.includes('"experience":2,'),
    ];
    let first = true;
    for (const killWhen of kills) {
      const r = await runEngram(file, out, first ? [] : ['--resume'], { killWhen, signal: 'SIGKILL' });
      assert.equal(r.signal, 'SIGKILL', `run was not killed: ${r.stderr}`);
      if (!first) assert.ok((r.firstCheckpointStep ?? Infinity) > 2, 'the resumed run started over');
      first = false;
    }
    const last = await runEngram(file, out, ['--resume']);
    assert.equal(last.code, 0, last.stderr);
    assert.deepEqual(deterministicSummary(out), deterministicSummary(join(work, 'ref')));
    assert.deepEqual(finalDigest(out), finalDigest(join(work, 'ref')));
  });
});
