import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineError } from '../plugin-api/pipeline-error.js';
import { fixtureDocument, loadFixture } from '../testing/fixture-pipeline.js';

/** A residual graph: d2's output is added to d1's, so rewiring d2 alone would break the shortcut. */
const residual = {
  graph: {
    nodes: [
      { name: 'd1', type: 'dense', units: 8, activation: 'relu', inputs: ['input'] },
      { name: 'd2', type: 'dense', units: 8, activation: 'relu', inputs: ['d1'] },
      { name: 'sum', type: 'add', inputs: ['d2', 'd1'] },
    ],
  },
};

/** The same layers without the merge: a chain written as a graph. */
const chain = { graph: { nodes: residual.graph.nodes.slice(0, 2) } };

const SURGERIES: Record<string, Record<string, unknown>> = {
  'widen-layer': { kind: 'widen-layer', layers: ['d2'], units: 12 },
  'insert-layer': { kind: 'insert-layer', after: 'd2' },
  'set-activation': { kind: 'set-activation', layers: ['d2'], activation: 'gelu' },
  'reinit-layers': { kind: 'reinit-layers', layers: ['d2'] },
};

async function problemsOf(model: unknown, adjust: unknown[]): Promise<string[]> {
  try {
    await loadFixture(fixtureDocument({ model, adjust }));
  } catch (e) {
    if (e instanceof PipelineError) return e.problems.map((p) => `${p.path}: ${p.message}`);
    throw e;
  }
  return [];
}

for (const [kind, entry] of Object.entries(SURGERIES)) {
  test(`${kind} on a graph model with a merge node is refused at its /adjust pointer before the run`, async () => {
    const problems = await problemsOf(residual, [{ kind: 'grow-head' }, entry]);
    assert.deepEqual(problems, [
      `/adjust/1: ${kind} rewrites a chain of layers, and this graph model has merge nodes ` +
        '(add "sum" at /model/graph/nodes/2); it supports graphs without add/concatenate (and layer stacks) only',
    ]);
  });
}

test('the chain surgeries are accepted on a graph without merge nodes, and other adjustments on a residual graph', async () => {
  for (const entry of Object.values(SURGERIES))
    assert.deepEqual(await problemsOf(chain, [entry]), [], String(entry['kind']));
  assert.deepEqual(await problemsOf(residual, [{ kind: 'grow-head' }, { kind: 'freeze', layers: ['d1'] }]), []);
});
