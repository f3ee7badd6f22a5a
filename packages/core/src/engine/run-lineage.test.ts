import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BatchSource } from '../data/batch-source.js';
import type { Experience } from '../data/experience.js';
import type { PipelineDefinition } from '../pipeline/pipeline-definition.js';
import { continuationOffset, mergeEvaluationTargets, RunLineage, shiftExperiences } from './run-lineage.js';

const source = {} as BatchSource;
const exp = (index: number, extra: Partial<Experience> = {}): Experience => ({
  index,
  classes: [index],
  train: source,
  test: source,
  ...extra,
});
const noTest = (index: number): Experience => ({ index, classes: [index], train: source });

test('a source numbered from 0 is shifted to continue after the earlier run, one already numbered past it keeps its indices', () => {
  assert.equal(continuationOffset([exp(0), exp(1)], 2), 2);
  // a scenario's `only` range: experiences 0-1 are evaluate-only, the first trained one is 2
  assert.equal(
    continuationOffset([exp(0, { evaluateOnly: true }), exp(1, { evaluateOnly: true }), exp(2), exp(3)], 2),
    0,
  );
  assert.equal(continuationOffset([exp(5)], 2), 0, "a gap is the source's own numbering");
  assert.deepEqual(
    shiftExperiences([exp(0), exp(1)], 3).map((e) => e.index),
    [3, 4],
  );
});

test(
  "evaluation targets: this run's experiences win over earlier ones with the same index, earlier ones are " +
    'evaluate-only and need a test set',
  () => {
    const own = [exp(2), exp(3)];
    const earlier = [
      [exp(0), exp(1), exp(2)],
      [exp(1, { classes: [9] }), noTest(4)],
    ];
    const merged = mergeEvaluationTargets(own, earlier);
    assert.deepEqual(
      merged.map((e) => [e.index, e.evaluateOnly === true, e.classes[0]]),
      [
        [0, true, 0],
        [1, true, 9],
        [2, false, 2],
        [3, false, 3],
      ],
    );
  },
);

test('the lineage checkpoint holds the earlier runs plus this one, and a restore splits them back', () => {
  const pipeline = { name: 'b' } as PipelineDefinition;
  const lineage = new RunLineage(() => ({ name: 'b', pipeline, baseDir: '/w' }));
  lineage.earlier = [{ name: 'a', pipeline: { name: 'a' } as PipelineDefinition, baseDir: '/v', offset: 0 }];
  lineage.offset = 2;
  const saved = lineage.state();
  assert.deepEqual(
    (saved.meta as { runs: Array<{ name: string; offset: number }> }).runs.map((r) => [r.name, r.offset]),
    [
      ['a', 0],
      ['b', 2],
    ],
  );
  const again = new RunLineage(() => ({ name: 'b', pipeline, baseDir: '/w' }));
  again.restore(saved);
  assert.deepEqual(
    again.earlier.map((r) => r.name),
    ['a'],
  );
  assert.equal(again.offset, 2);
  again.restore({ meta: { runs: [{ name: 'x' }] } });
  assert.deepEqual([again.earlier, again.offset], [[], 0], 'malformed entries are ignored');
});
