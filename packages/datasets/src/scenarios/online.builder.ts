import type { Experience, Rng, StreamInfo } from '@engram/core';
import { IndexedBatchSource } from '../data/indexed-batch-source.js';
import { presentClasses, type LabelledData } from '../data/labelled-set.js';
import type { Pools, Scenario } from './build-scenario.js';
import { classGroups } from './class-groups.js';
import type { OnlineOptions } from './scenario.schema.js';
import { filterByClasses } from './split.js';

/**
 * The order in which an online stream visits `rows`: segment `s` (its classes in `groups[s]`) comes after
 * segment `s-1`. Every row gets the key `s + u` with `u` uniform in [0, 1) — abrupt boundaries — or,
 * for gradual ones, `s + u * (1 + blur) - blur / 2`, so neighbouring segments overlap by `blur` and the
 * share of the next segment rises linearly through the overlap. Rows are sorted by key. Seeded.
 */
export function onlineOrder(
  y: Int32Array,
  rows: Int32Array,
  groups: readonly number[][],
  gradual: boolean,
  blur: number,
  rng: Rng,
): Int32Array {
  const segmentOf = new Map<number, number>();
  groups.forEach((g, s) => g.forEach((c) => segmentOf.set(c, s)));
  const width = gradual ? blur : 0;
  const keyed: Array<{ row: number; key: number }> = [];
  for (const row of rows) {
    const s = segmentOf.get(y[row] as number);
    if (s === undefined) continue;
    keyed.push({ row, key: s + rng.next() * (1 + width) - width / 2 });
  }
  keyed.sort((a, b) => a.key - b.key);
  return Int32Array.from(keyed, (k) => k.row);
}

/**
 * Builds a task-free stream (StreamInfo.experiences = 'endless': the engine's stream mode): one
 * experience whose training source is read once in segment order, regardless of shuffling; its test set
 * is the held-out part of every class in the stream.
 */
export function buildOnline(
  data: LabelledData,
  p: Pools,
  options: OnlineOptions,
  rng: Rng,
  base: Pick<StreamInfo, 'inputShape' | 'numClasses' | 'classNames'>,
): Scenario {
  const groups = classGroups(
    presentClasses(data.train.y, data.numClasses),
    data.numClasses,
    { ...options, experiences: options.segments },
    rng,
  );
  const order = onlineOrder(
    p.train.set.y,
    p.train.rows,
    groups,
    options.boundary === 'gradual',
    options.blur ?? 0.5,
    rng.derive('online-order'),
  );
  const classes = groups.flat();
  const experience: Experience = {
    index: 0,
    name: `online stream over ${groups.length} segments`,
    classes,
    train: new IndexedBatchSource(p.train.set, order, { ordered: true }),
    test: new IndexedBatchSource(p.test.set, filterByClasses(p.test.set.y, p.test.rows, classes)),
  };
  return {
    info: { ...base, experiences: 'endless', scenario: `online-${options.boundary ?? 'abrupt'}` },
    experiences: [experience],
  };
}
