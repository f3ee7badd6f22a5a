import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closestName, didYouMean, editDistance } from './closest-name.js';

const STRATEGIES = [
  'agem',
  'cumulative',
  'derpp',
  'ewc',
  'gdumb',
  'hedge',
  'joint',
  'lwf',
  'mas',
  'naive',
  'online-ewc',
  'replay',
  'si',
];

test('edit distance counts insertions, deletions, substitutions and swaps', () => {
  assert.equal(editDistance('ewc', 'ewc'), 0);
  assert.equal(editDistance('ewx', 'ewc'), 1);
  assert.equal(editDistance('wec', 'ewc'), 1);
  assert.equal(editDistance('replya', 'replay'), 1);
  assert.equal(editDistance('', 'abc'), 3);
});

test('a typo of a known name finds it, case-insensitively', () => {
  assert.equal(closestName('ewx', STRATEGIES), 'ewc');
  assert.equal(closestName('Replay', STRATEGIES), 'replay');
  assert.equal(closestName('onlineewc', STRATEGIES), 'online-ewc');
  assert.equal(closestName('batchsize', ['epochs', 'batchSize', 'shuffle']), 'batchSize');
  assert.equal(didYouMean('ewx', STRATEGIES), ' (did you mean "ewc"?)');
});

test('a name unlike any known one gets no suggestion', () => {
  assert.equal(closestName('transformer', STRATEGIES), undefined);
  assert.equal(didYouMean('zzz', STRATEGIES), '');
});
