import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { patience } from '../testing/patience.js';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'main.js');

test('poisoned stdin records are counted in summary.json and never trained on; prequential covers every good sample', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-poison-'));
  const file = join(dir, 'p.json');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'poison',
      seed: 5,
      backend: 'cpu',
      plugins: ['@engram/datasets', '@engram/strategies'],
      data: { kind: 'jsonl-stdin', inputShape: [4], numClasses: 3, buffer: 256, policy: 'block' },
      model: { layers: [{ type: 'dense', units: 8, activation: 'relu' }] },
      optimizer: { type: 'adam', learningRate: 0.01 },
      strategy: { kind: 'naive' },
      training: { batchSize: 32 },
      evaluation: { window: 100 },
      checkpoint: { enabled: false },
    }),
  );
  const poison = [
    '{"x":[1e39,2,3,4],"y":0}',
    '{"x":[1,2,3,4],"y":"1"}',
    '{"x":[1,2,3,4],"y":7}',
    '{"x":[1,2,3],"y":0}',
    'garbage',
    '{"x":[1,2,3,-1e300],"y":1}',
    '{"x":[1,2,3,4],"y":-1}',
  ];
  const lines: string[] = [];
  let good = 0;
  for (let i = 0; i < 3000; i++) {
    if (i % 3 === 1) lines.push(poison[i % poison.length] as string);
    else {
      const y = i % 3;
      lines.push(JSON.stringify({ x: [y + (i % 7) / 10, y, 1 - y, (i % 5) / 5], y }));
      good++;
    }
  }
  const r = spawnSync(process.execPath, [main, 'run', file, '--out', join(dir, 'out'), '--quiet'], {
    input: `${lines.join('\n')}\n`,
    encoding: 'utf8',
    timeout: patience(120_000),
  });
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(readFileSync(join(dir, 'out', 'summary.json'), 'utf8')) as {
    badRecords: Record<string, number>;
    prequential: { samples: number; accuracy: number };
    trainSamples: number;
    loss: { max: number };
  };
  assert.deepEqual(summary.badRecords, { 'jsonl-stdin': 1000 });
  assert.equal(summary.prequential.samples, good);
  assert.equal(summary.trainSamples, good);
  assert.ok(Number.isFinite(summary.loss.max), `loss stayed finite (${summary.loss.max})`);
});
