import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freshEarlyStopping, observeEpoch } from './early-stopping.js';

describe('early stopping', () => {
  it('stops after `patience` epochs in a row without improvement, counting from the best epoch', () => {
    const settings = { patience: 2 };
    const state = freshEarlyStopping();
    const losses = [1.0, 0.8, 0.85, 0.7, 0.75, 0.71, 0.6];
    const verdicts = losses.map((v, epoch) => observeEpoch(settings, state, epoch, v));
    assert.deepEqual(verdicts, ['improved', 'improved', 'waiting', 'improved', 'waiting', 'stop', 'improved']);
    assert.equal(state.bestEpoch, 6);
  });

  it('maximises accuracy by default and needs an improvement larger than minDelta', () => {
    const settings = { patience: 1, metric: 'accuracy', minDelta: 0.05 } as const;
    const state = freshEarlyStopping();
    assert.equal(observeEpoch(settings, state, 0, 0.5), 'improved');
    assert.equal(observeEpoch(settings, state, 1, 0.6), 'improved');
    assert.equal(observeEpoch(settings, state, 2, 0.64), 'stop');
    assert.equal(state.best, 0.6);
    assert.equal(state.bestEpoch, 1);
  });

  it('never counts a NaN as an improvement', () => {
    const state = freshEarlyStopping();
    assert.equal(observeEpoch({ patience: 3 }, state, 0, NaN), 'waiting');
    assert.equal(state.best, null);
  });
});
