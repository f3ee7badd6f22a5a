import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PipelineDefinition } from './pipeline-definition.js';
import { partOptions, partsOf, pipelineParts } from './pipeline-parts.js';

function pipeline(
  strategy: PipelineDefinition['strategy'],
  extra: Partial<PipelineDefinition> = {},
): PipelineDefinition {
  return {
    name: 'p',
    seed: 1,
    backend: 'cpu',
    plugins: [],
    data: { kind: 'synthetic', experiences: 2 },
    preprocess: [{ kind: 'normalize' }, { kind: 'flatten' }],
    adjust: [{ kind: 'grow-head' }],
    strategy,
    loggers: [],
    stages: [],
    ...extra,
  } as unknown as PipelineDefinition;
}

test('a single strategy sits at /strategy and a list gives one pointer per element', () => {
  assert.deepEqual(
    partsOf(pipeline({ kind: 'ewc', lambda: 5 }), 'strategy').map((p) => [p.pointer, p.index, p.kind]),
    [['/strategy', 0, 'ewc']],
  );
  assert.deepEqual(
    partsOf(pipeline([{ kind: 'replay' }, { kind: 'ewc' }]), 'strategy').map((p) => p.pointer),
    ['/strategy/0', '/strategy/1'],
  );
});

test('every component section of a pipeline is in the table with its role, pointer and options', () => {
  const parts = pipelineParts(pipeline({ kind: 'naive' }, { boundary: { kind: 'drift', threshold: 0.5 } }));
  assert.deepEqual(
    parts.map((p) => `${p.role} ${p.pointer} ${p.kind}`),
    [
      'dataset /data synthetic',
      'transform /preprocess/0 normalize',
      'transform /preprocess/1 flatten',
      'adjust /adjust/0 grow-head',
      'strategy /strategy naive',
      'detector /boundary drift',
    ],
  );
  const detector = parts.find((p) => p.role === 'detector');
  assert.ok(detector);
  assert.deepEqual(partOptions(detector), { threshold: 0.5 });
});
