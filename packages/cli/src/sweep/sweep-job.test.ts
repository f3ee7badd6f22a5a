import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { completedSummary } from './sweep-job.js';
import { collectResults } from './sweep-results.js';
import type { SweepJob, SweepPlan } from './sweep-plan.js';

test('a combination counts as done only when its summary.json says completed, never from the file being there', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-sweep-job-'));
  try {
    const figures = { averageAccuracy: 0.5, bwt: 0, fwt: null, forgetting: 0.1, learningAccuracy: 0.6 };
    const summaries: Record<string, string> = {
      done: JSON.stringify({ status: 'completed', stopped: null, error: null, ...figures }),
      failed: JSON.stringify({ status: 'failed', stopped: null, error: 'loss is 7.52e+18 at step 3', ...figures }),
      stopped: JSON.stringify({ status: 'stopped', stopped: 'SIGTERM', error: null, ...figures }),
      torn: '{"status": "compl',
    };
    const jobs: SweepJob[] = Object.entries(summaries).map(([name, body], index) => {
      const out = join(dir, name);
      mkdirSync(out);
      writeFileSync(join(out, 'summary.json'), body);
      return { sweep: 's', index, name, overrides: { '/seed': index }, baseFile: '', doc: {}, outDir: out };
    });
    assert.deepEqual(
      jobs.map((j) => completedSummary(j.outDir)?.status ?? 'not done'),
      ['completed', 'not done', 'not done', 'not done'],
    );
    const plan = {
      name: 's',
      file: '',
      baseFile: '',
      metric: 'ACC',
      goal: 'max',
      pointers: ['/seed'],
    } as unknown as SweepPlan;
    const results = collectResults(plan, jobs);
    const by = new Map(results.combinations.map((c) => [c.name, c]));
    assert.equal(by.get('done')?.status, 'done');
    assert.equal(by.get('done')?.ACC, 0.5);
    assert.equal(by.get('failed')?.status, 'failed');
    assert.equal(by.get('failed')?.error, 'loss is 7.52e+18 at step 3');
    assert.equal(by.get('stopped')?.error, 'summary.json says status "stopped"');
    assert.equal(by.get('torn')?.error, 'no readable summary.json');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
