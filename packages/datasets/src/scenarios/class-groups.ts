import type { Rng } from '@engram/core';

/** How classes are grouped into experiences (shared by class-, task-incremental and online scenarios). */
export interface ClassGroupOptions {
  readonly experiences?: number | undefined;
  readonly classesPerExperience?: number | undefined;
  readonly classOrder?: readonly number[] | undefined;
  readonly shuffleClasses?: boolean | undefined;
}

/**
 * The class order (explicit, seeded shuffle, or ascending) cut into groups. Throws a readable error when
 * the order names a class the data does not have or the grouping does not fit.
 */
export function classGroups(
  present: readonly number[],
  numClasses: number,
  options: ClassGroupOptions,
  rng: Rng,
): number[][] {
  let order: number[];
  if (options.classOrder) {
    const have = new Set(present);
    for (const c of options.classOrder) {
      if (c >= numClasses)
        throw new Error(
          `scenario.classOrder names class ${c}, but the data has ${numClasses} classes (0..${numClasses - 1})`,
        );
      if (!have.has(c)) throw new Error(`scenario.classOrder names class ${c}, which has no samples`);
    }
    order = [...options.classOrder];
  } else if (options.shuffleClasses) {
    const perm = rng.derive('class-order').permutation(present.length);
    order = Array.from(perm, (p) => present[p] as number);
  } else {
    order = [...present];
  }
  const n = order.length;
  let sizes: number[];
  if (options.experiences !== undefined && options.classesPerExperience !== undefined) {
    if (Math.ceil(n / options.classesPerExperience) !== options.experiences) {
      throw new Error(
        `scenario: ${options.experiences} experiences of ${options.classesPerExperience} classes do not cover ${n} ` +
          `classes; give only one of them`,
      );
    }
  }
  if (options.experiences !== undefined) {
    if (options.experiences > n)
      throw new Error(`scenario asks for ${options.experiences} experiences but there are only ${n} classes`);
    const base = Math.floor(n / options.experiences);
    const extra = n % options.experiences;
    sizes = Array.from({ length: options.experiences }, (_, i) => base + (i < extra ? 1 : 0));
  } else if (options.classesPerExperience !== undefined) {
    const k = options.classesPerExperience;
    sizes = Array.from({ length: Math.ceil(n / k) }, (_, i) => Math.min(k, n - i * k));
  } else {
    throw new Error('scenario: give "experiences" or "classesPerExperience"');
  }
  const groups: number[][] = [];
  let o = 0;
  for (const s of sizes) {
    groups.push(order.slice(o, o + s));
    o += s;
  }
  return groups;
}
