import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodePng } from '@engram/datasets';
import { finalDigest, MAIN } from './e2e-harness.js';

/** `dir/<c>/<i>.png`: 3 classes x 12 RGB 8x8 images, class-dependent colour and a per-image gradient. */
function writeTree(dir: string): void {
  for (let c = 0; c < 3; c++) {
    mkdirSync(join(dir, `class-${c}`), { recursive: true });
    for (let i = 0; i < 12; i++) {
      const px = new Uint8Array(8 * 8 * 3);
      for (let p = 0; p < 64; p++) {
        px[p * 3 + c] = 120 + ((p * 7 + i * 13) % 120);
        px[p * 3 + ((c + 1) % 3)] = (p * 3 + i * 5) % 60;
      }
      writeFileSync(join(dir, `class-${c}`, `${i}.png`), encodePng(8, 8, 3, px));
    }
  }
}

/** An image-folder class-IL pipeline with seeded augmentation and replay, training experiences `only`. */
function pipeline(name: string, only: Record<string, number> | undefined): Record<string, unknown> {
  return {
    name,
    seed: 7,
    backend: 'cpu',
    plugins: ['@engram/datasets', '@engram/strategies'],
    data: {
      kind: 'image-folder',
      root: 'images',
      threads: 2,
      prefetch: 2,
      testFraction: 0.25,
      scenario: { type: 'class-incremental', classesPerExperience: 1, ...(only ? { only } : {}) },
    },
    preprocess: [{ kind: 'random-crop', padding: 1 }, { kind: 'horizontal-flip' }, { kind: 'normalize' }],
    model: { layers: [{ type: 'flatten' }, { type: 'dense', units: 8, activation: 'relu' }] },
    optimizer: { type: 'adam', learningRate: 0.01 },
    strategy: { kind: 'replay', bufferSize: 9 },
    training: { epochs: 2, batchSize: 4 },
    evaluation: { on: 'all' },
    checkpoint: { enabled: true },
  };
}

function engram(args: string[]): { status: number | null; stderr: string } {
  return spawnSync(process.execPath, [MAIN, 'run', ...args], { encoding: 'utf8' });
}

const matrix = (dir: string): unknown =>
  (JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { accuracyMatrix: unknown }).accuracyMatrix;

describe('--from over an image-folder source', () => {
  it("two invocations, the second --from the first, end with one 3-experience run's accuracy matrix and weights, bit for bit", () => {
    const work = mkdtempSync(join(tmpdir(), 'engram-images-from-'));
    try {
      writeTree(join(work, 'images'));
      const write = (name: string, only: Record<string, number> | undefined): string => {
        const file = join(work, `${name}.pipeline.json`);
        writeFileSync(file, JSON.stringify(pipeline(name, only)));
        return file;
      };
      const day1 = engram([write('day1', { first: 0, last: 0 }), '--out', join(work, 'day1')]);
      assert.equal(day1.status, 0, day1.stderr);
      const day2 = engram([write('day2', { first: 1 }), '--from', join(work, 'day1'), '--out', join(work, 'day2')]);
      assert.equal(day2.status, 0, day2.stderr);
      assert.match(day2.stderr, /continuing run "day1" from /);
      const one = engram([write('one', undefined), '--out', join(work, 'one')]);
      assert.equal(one.status, 0, one.stderr);
      const whole = matrix(join(work, 'one')) as number[][];
      assert.equal(whole.length, 3);
      assert.ok(whole.every((row) => row.length === 3 && row.every((v) => typeof v === 'number')));
      assert.deepEqual(matrix(join(work, 'day2')), whole);
      assert.deepEqual(matrix(join(work, 'day1')), whole.slice(0, 1));
      assert.equal(finalDigest(join(work, 'day2')).weights, finalDigest(join(work, 'one')).weights);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
