import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..', '..');
const main = join(here, 'main.js');

interface EpochEnd {
  readonly type: string;
  readonly experience: number;
  readonly epoch: number;
  readonly loss: number;
}

test('the GRU example in PyTorch’s reset-after form (the fused sequence op, native on wasm) trains to a finite, decreasing loss', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-gru-'));
  try {
    const doc = JSON.parse(readFileSync(join(root, 'examples', 'tokens-gru.pipeline.json'), 'utf8')) as {
      $schema?: string;
      data: Record<string, unknown>;
      model: { graph: { nodes: Array<Record<string, unknown>> } };
    };
    delete doc.$schema;
    doc.data['path'] = join(root, 'examples', 'data', 'tokens.csv');
    for (const node of doc.model.graph.nodes) if (node['type'] === 'gru') node['resetAfter'] = true;
    const file = join(dir, 'gru.pipeline.json');
    writeFileSync(file, JSON.stringify(doc));
    const out = join(dir, 'out');
    const r = spawnSync(process.execPath, [main, 'run', file, '--out', out, '--quiet'], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const epochs = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as EpochEnd)
      .filter((e) => e.type === 'epoch-end');
    for (const experience of [0, 1]) {
      const losses = epochs.filter((e) => e.experience === experience).map((e) => e.loss);
      assert.ok(losses.length >= 2, `experience ${experience}: ${losses.length} epochs`);
      assert.ok(losses.every(Number.isFinite), `experience ${experience}: losses ${losses.join(', ')}`);
      const [first, last] = [losses[0] ?? Number.NaN, losses[losses.length - 1] ?? Number.NaN];
      assert.ok(last < 0.7 * first, `experience ${experience}: loss ${first} → ${last}`);
    }
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { averageAccuracy: number };
    assert.ok(summary.averageAccuracy > 0.5, `average accuracy ${summary.averageAccuracy}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
