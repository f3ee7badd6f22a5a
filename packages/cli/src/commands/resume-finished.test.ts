import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAIN } from './e2e-harness.js';
import { patience } from '../testing/patience.js';

function engram(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: patience(120_000) });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every file of a run folder with its bytes and modification time. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (d: string, rel: string): void => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      const st = statSync(path);
      if (st.isDirectory()) walk(path, `${rel}${name}/`);
      else files[`${rel}${name}`] = `${st.mtimeMs} ${readFileSync(path).toString('base64')}`;
    }
  };
  walk(dir, '');
  return files;
}

test('--resume of a finished run says it is finished, exits 0, trains nothing and leaves the run folder as it was', () => {
  const work = mkdtempSync(join(tmpdir(), 'engram-resume-finished-'));
  const file = join(work, 'p.pipeline.json');
  const out = join(work, 'out');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'finished',
      seed: 5,
      backend: 'cpu',
      plugins: ['@engram/datasets', '@engram/strategies'],
      data: {
        kind: 'synthetic',
        numClasses: 4,
        features: 8,
        samplesPerClass: 30,
        scenario: { type: 'class-incremental', classesPerExperience: 2 },
      },
      model: { layers: [{ type: 'dense', units: 8, activation: 'relu' }] },
      strategy: { kind: 'naive' },
      training: { epochs: 1, batchSize: 16 },
      checkpoint: { enabled: true, everyBatches: 3 },
    }),
  );
  const first = engram(['run', file, '--out', out]);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /accuracy matrix/, 'a finished run prints its matrix');
  const before = snapshot(out);

  const again = engram(['run', file, '--out', out, '--resume']);
  assert.equal(again.status, 0, again.stderr);
  assert.match(
    again.stderr,
    /^the run in .+ has already finished \(checkpoint .+step-\d{12}, step \d+\): nothing to resume$/m,
  );
  assert.doesNotMatch(again.stderr, /resuming from/);
  assert.doesNotMatch(again.stdout, /accuracy|ACC|samples\/s/, 'no matrix or figures as if it had run');
  assert.deepEqual(snapshot(out), before, 'no file written, no checkpoint added');

  const json = engram(['run', file, '--out', out, '--resume', '--json']);
  assert.equal(json.status, 0, json.stderr);
  assert.equal(json.stdout.trim(), '', 'no events: nothing ran');
});
