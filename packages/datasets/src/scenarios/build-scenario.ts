import type { Experience, Rng, StreamInfo } from '@engram/core';
import { IndexedBatchSource, type SampleMap } from '../data/indexed-batch-source.js';
import { checkLabelledSet, presentClasses, type LabelledData, type LabelledSet } from '../data/labelled-set.js';
import { classGroups } from './class-groups.js';
import { permutationMap, rotationMap } from './domain-maps.js';
import { buildOnline } from './online.builder.js';
import type { ScenarioOptions } from './scenario.schema.js';
import { filterByClasses, iidChunks, orderedChunks, range, stratifiedSplit } from './split.js';

/** A built scenario: what `DataSource.describe()` reports and the experiences, in order. */
export interface Scenario {
  readonly info: StreamInfo;
  readonly experiences: readonly Experience[];
}

/** Settings shared by every scenario. */
export interface ScenarioSettings {
  /** Fraction of each class held out for testing when the data has no test set of its own. */
  readonly testFraction: number;
  /** The source's generator; the builder derives its own labelled streams from it. */
  readonly rng: Rng;
  /** User-supplied per-experience input maps for domain-incremental scenarios built in code. */
  readonly domainMaps?: readonly SampleMap[];
}

/** Train and test pools of a data set: the official test set, or a seeded stratified split. */
export interface Pools {
  readonly train: { set: LabelledSet; rows: Int32Array };
  readonly test: { set: LabelledSet; rows: Int32Array };
}

/** The train/test pools the scenario cuts into experiences. */
export function pools(data: LabelledData, settings: ScenarioSettings): Pools {
  checkLabelledSet(data.train, data.numClasses, 'training data');
  if (data.test) {
    checkLabelledSet(data.test, data.numClasses, 'test data');
    if (data.test.sampleShape.join() !== data.train.sampleShape.join())
      throw new Error('train and test samples have different shapes');
    return {
      train: { set: data.train, rows: range(data.train.y.length) },
      test: { set: data.test, rows: range(data.test.y.length) },
    };
  }
  const split = stratifiedSplit(data.train, data.numClasses, settings.testFraction, settings.rng.derive('split'));
  return { train: { set: data.train, rows: split.train }, test: { set: data.train, rows: split.test } };
}

/**
 * Cuts a finite labelled data set into the experiences of `scenario`. Pure function of the data, the
 * options and `settings.rng`: the same seed gives the same classes, splits, permutations and angles.
 * With `only`, the experiences outside `first..last` are evaluate-only: cut exactly as in the whole
 * scenario (same indices, classes and splits), so runs over consecutive ranges chained with `--from`
 * train on what one run over all of them would.
 */
export function buildScenario(data: LabelledData, scenario: ScenarioOptions, settings: ScenarioSettings): Scenario {
  const built = cutScenario(data, scenario, settings);
  const only = 'only' in scenario ? scenario.only : undefined;
  if (only === undefined) return built;
  const count = built.experiences.length;
  const first = only.first ?? 0;
  const last = only.last ?? count - 1;
  if (first >= count)
    throw new Error(`scenario.only.first is ${first}, but the scenario has ${count} experiences (0..${count - 1})`);
  if (last < first || last >= count)
    throw new Error(`scenario.only.last is ${last}; it must be between only.first (${first}) and ${count - 1}`);
  const experiences = built.experiences.map((e) =>
    e.index < first || e.index > last ? { ...e, evaluateOnly: true } : e,
  );
  return { info: built.info, experiences };
}

/** The scenarios that cut by class: they need classes, so a regression source refuses them. */
const BY_CLASS = new Set(['class-incremental', 'task-incremental', 'online']);

function cutScenario(data: LabelledData, scenario: ScenarioOptions, settings: ScenarioSettings): Scenario {
  const regression = data.regression === true;
  if (regression && BY_CLASS.has(scenario.type))
    throw new Error(
      `scenario "${scenario.type}" cuts the data by class, but this source yields regression targets: use "data-incremental" (shuffled or in file order) or "domain-incremental"`,
    );
  const p = pools(data, settings);
  const base = {
    inputShape: [...data.train.sampleShape],
    numClasses: data.numClasses,
    ...(data.classNames ? { classNames: [...data.classNames] } : {}),
    ...(regression ? { regression: true } : {}),
  };
  // A regression experience has no classes (its targets are values); a classification one lists its own.
  const classesOf = (y: Int32Array): number[] => (regression ? [] : presentClasses(y, data.numClasses));
  const { rng } = settings;
  switch (scenario.type) {
    case 'class-incremental':
    case 'task-incremental': {
      const withTask = scenario.type === 'task-incremental';
      const groups = classGroups(presentClasses(data.train.y, data.numClasses), data.numClasses, scenario, rng);
      const experiences = groups.map((classes, index): Experience => {
        const opts = withTask ? { task: index } : {};
        return {
          index,
          name: `classes ${classes.join(', ')}`,
          classes,
          ...(withTask ? { task: index } : {}),
          train: new IndexedBatchSource(p.train.set, filterByClasses(p.train.set.y, p.train.rows, classes), opts),
          test: new IndexedBatchSource(p.test.set, filterByClasses(p.test.set.y, p.test.rows, classes), opts),
        };
      });
      return {
        info: {
          ...base,
          experiences: experiences.length,
          scenario: scenario.type,
          ...(withTask ? { tasks: experiences.length } : {}),
        },
        experiences,
      };
    }
    case 'domain-incremental': {
      const classes = classesOf(data.train.y);
      const len = base.inputShape.reduce((a, b) => a * b, 1);
      const angles = scenario.angles;
      if (angles && angles.length !== scenario.experiences) {
        throw new Error(`scenario.angles has ${angles.length} entries for ${scenario.experiences} experiences`);
      }
      const experiences = Array.from({ length: scenario.experiences }, (_, index): Experience => {
        const identity =
          index === 0 && (scenario.firstIdentity ?? true) && !(angles && scenario.transform === 'rotation');
        let map: SampleMap | undefined = settings.domainMaps?.[index];
        let name = `domain ${index}`;
        if (!map && !identity) {
          if (scenario.transform === 'permutation') {
            map = permutationMap(len, rng.derive(`permutation:${index}`)).map;
            name = `permutation ${index}`;
          } else {
            const maxAngle = scenario.maxAngle ?? 180;
            const angle = angles
              ? (angles[index] as number)
              : (rng.derive(`rotation:${index}`).next() * 2 - 1) * maxAngle;
            map = rotationMap(base.inputShape, angle);
            name = `rotation ${angle.toFixed(1)}°`;
          }
        }
        const opts = map ? { map } : {};
        return {
          index,
          name,
          classes,
          train: new IndexedBatchSource(p.train.set, p.train.rows, opts),
          test: new IndexedBatchSource(p.test.set, p.test.rows, opts),
        };
      });
      return { info: { ...base, experiences: experiences.length, scenario: 'domain-incremental' }, experiences };
    }
    case 'data-incremental': {
      if (scenario.experiences > p.train.rows.length)
        throw new Error(`scenario asks for ${scenario.experiences} chunks of ${p.train.rows.length} samples`);
      if (scenario.order === 'group') return groupScenario(data, p, scenario.experiences, base, classesOf);
      const inOrder = scenario.order === 'file';
      const trainChunks = inOrder
        ? orderedChunks(p.train.rows, p.train.set.y.length, scenario.experiences)
        : iidChunks(p.train.rows, scenario.experiences, rng.derive('chunks:train'));
      const testChunks = inOrder
        ? orderedChunks(p.test.rows, p.test.set.y.length, scenario.experiences)
        : iidChunks(p.test.rows, scenario.experiences, rng.derive('chunks:test'));
      const experiences = trainChunks.map((rows, index): Experience => ({
        index,
        name: inOrder ? `rows ${index + 1}/${scenario.experiences}` : `chunk ${index}`,
        classes: classesOf(Int32Array.from(rows, (r) => p.train.set.y[r] as number)),
        train: new IndexedBatchSource(p.train.set, rows),
        test: new IndexedBatchSource(p.test.set, testChunks[index] as Int32Array),
      }));
      return { info: { ...base, experiences: experiences.length, scenario: 'data-incremental' }, experiences };
    }
    case 'online':
      return buildOnline(data, p, scenario, rng, base);
  }
}

/**
 * Data-incremental by group: one experience per group of the source's group column/field (a domain),
 * in order of first appearance; each tests on its own held-out rows. `experiences` must match.
 */
function groupScenario(
  data: LabelledData,
  p: Pools,
  experiences: number,
  base: Omit<StreamInfo, 'experiences' | 'scenario'>,
  classesOf: (y: Int32Array) => number[],
): Scenario {
  const names = data.groupNames;
  const groups = data.train.groups;
  if (!names || !groups)
    throw new Error('scenario order "group" needs a group column (csv groupColumn) or field (jsonl groupField)');
  if (data.test) throw new Error('scenario order "group" splits one file: it has no separate test set');
  if (names.length !== experiences)
    throw new Error(
      `scenario order "group": the data has ${names.length} groups (${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''}), but experiences is ${experiences}`,
    );
  const of = (rows: Int32Array, g: number): Int32Array => rows.filter((r) => groups[r] === g);
  const list = names.map((name, index): Experience => {
    const train = of(p.train.rows, index);
    return {
      index,
      name: `group ${name}`,
      classes: classesOf(Int32Array.from(train, (r) => p.train.set.y[r] as number)),
      train: new IndexedBatchSource(p.train.set, train),
      test: new IndexedBatchSource(p.test.set, of(p.test.rows, index)),
    };
  });
  return { info: { ...base, experiences: list.length, scenario: 'data-incremental' }, experiences: list };
}
