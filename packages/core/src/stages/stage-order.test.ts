import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OperatorFunction } from 'rxjs';
import type { RunItem } from '../plugin-api/run-item.js';
import type { Stage } from '../plugin-api/stage.js';
import { orderStages, type PlacedStage } from './stage-order.js';

const stage = (name: string): Stage => ({
  name,
  operator: (): OperatorFunction<RunItem, RunItem> => (items$) => items$,
});
const builtins = ['preprocess', 'adjust', 'train', 'evaluate', 'checkpoint'].map(stage);
const names = (list: readonly Stage[]): string[] => list.map((s) => s.name);
const placed = (name: string, i: number, at: { after?: string; before?: string } = {}): PlacedStage => ({
  stage: stage(name),
  path: `/stages/${i}`,
  ...at,
});

test('plugin stages go after or before their anchor, in declared order, and before checkpoint by default', () => {
  const order = orderStages(builtins, [
    placed('a', 0, { after: 'train' }),
    placed('b', 1, { after: 'train' }),
    placed('c', 2),
    placed('d', 3, { before: 'preprocess' }),
    placed('e', 4, { after: 'a' }),
  ]);
  assert.deepEqual(names(order), ['d', 'preprocess', 'adjust', 'train', 'a', 'e', 'b', 'evaluate', 'c', 'checkpoint']);
});

test('an unknown anchor or both anchors are pipeline errors naming the entry', () => {
  assert.throws(
    () => orderStages(builtins, [placed('x', 0, { after: 'nope' })]),
    /\/stages\/0\/after: unknown stage "nope"; known: preprocess, adjust, train, evaluate, checkpoint/,
  );
  assert.throws(
    () => orderStages(builtins, [placed('x', 1, { after: 'train', before: 'train' })]),
    /\/stages\/1: give "after" or "before", not both/,
  );
});
