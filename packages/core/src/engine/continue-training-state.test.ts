import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PipelineDefinition } from '../pipeline/pipeline-definition.js';
import type { ContinuePoint } from './continue-from.js';
import { continuedStates } from './continue-restore.js';

const def = {
  optimizer: { type: 'adamw', schedule: { type: 'cosine', scope: 'run', period: 100 } },
  strategy: { kind: 'naive' },
  preprocess: [],
  adjust: [],
} as unknown as PipelineDefinition;

describe('--from and the training controls', () => {
  it("carries the earlier run's /training state (schedule counters, early stopping) into the new run", () => {
    const training = { meta: { counters: { runSteps: 57, runEpochs: 4, experienceSteps: 12, experienceEpochs: 1 } } };
    const point = {
      run: { pipeline: def },
      states: new Map<string, unknown>([
        ['/training', training],
        ['/run/cursor', { meta: {} }],
      ]),
    } as unknown as ContinuePoint;
    const warnings: string[] = [];
    const out = continuedStates(point, def, ['/optimizer', '/training', '/run/cursor'], (m) => warnings.push(m));
    assert.equal(out.get('/training'), training);
    assert.deepEqual(warnings, []);
  });
});
