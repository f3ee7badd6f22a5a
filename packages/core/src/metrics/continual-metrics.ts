/**
 * Continual-learning metrics over an accuracy matrix. Pure functions: no tensors, no I/O.
 *
 * Notation (0-based): `R[i][j]` is the test accuracy on experience `j` measured after training
 * experience `i`; `T = R.length` is the number of trained experiences (rows); `m` is the number of
 * evaluated experiences (columns, `m` may differ from `T`). `b[j]` is the accuracy of the model
 * before any training (random initialisation) on experience `j`. Entries may be `null` (not
 * evaluated): every mean below skips the terms that involve a `null` and is `null` when no term is
 * left. See docs/metrics.md for the same formulas with references.
 */

/** An accuracy matrix: row i = after training experience i, column j = accuracy on experience j. */
export type AccuracyMatrix = readonly (readonly (number | null)[])[];

/** All matrix metrics at once (see the functions of the same names for the formulas). */
export interface ContinualMetrics {
  averageAccuracy: number | null;
  bwt: number | null;
  fwt: number | null;
  forgetting: number | null;
  learningAccuracy: number | null;
}

/** Mean of the non-null values; null for none. */
function meanOf(values: readonly (number | null)[]): number | null {
  let sum = 0;
  let n = 0;
  for (const v of values) {
    if (v !== null) {
      sum += v;
      n++;
    }
  }
  return n === 0 ? null : sum / n;
}

/** Throws a RangeError unless R is rectangular with finite (or null) entries. Returns the width m. */
function checkMatrix(R: AccuracyMatrix): number {
  const m = R[0]?.length ?? 0;
  R.forEach((row, i) => {
    if (row.length !== m)
      throw new RangeError(
        `accuracy matrix row ${i} has ${row.length} entries, row 0 has ${m}: rows must have equal length`,
      );
    row.forEach((v, j) => {
      if (v !== null && !Number.isFinite(v))
        throw new RangeError(`accuracy matrix entry [${i}][${j}] is ${String(v)}, expected a finite number or null`);
    });
  });
  return m;
}

/** R[i][j] or null when outside the matrix. */
function at(R: AccuracyMatrix, i: number, j: number): number | null {
  return R[i]?.[j] ?? null;
}

/**
 * Average accuracy ACC = (1/m) Σ_j R[T-1][j]: the mean of the last row (accuracy on every evaluated
 * experience after training the last one). `null` for an empty matrix or an all-null last row.
 * Single experience: R[0][0].
 */
export function averageAccuracy(R: AccuracyMatrix): number | null {
  checkMatrix(R);
  const last = R[R.length - 1];
  return last === undefined ? null : meanOf(last);
}

/**
 * Backward transfer (Lopez-Paz & Ranzato 2017, GEM):
 * BWT = 1/(T-1) Σ_{j=0}^{T-2} (R[T-1][j] − R[j][j]).
 * Negative = forgetting (accuracy on old experiences dropped after learning new ones), positive =
 * learning later experiences helped earlier ones. `null` when T < 2 (single experience: nothing
 * earlier to transfer back to).
 */
export function backwardTransfer(R: AccuracyMatrix): number | null {
  const m = checkMatrix(R);
  const T = R.length;
  const terms: (number | null)[] = [];
  for (let j = 0; j < Math.min(T - 1, m); j++) {
    const last = at(R, T - 1, j);
    const diag = at(R, j, j);
    terms.push(last === null || diag === null ? null : last - diag);
  }
  return meanOf(terms);
}

/**
 * Forward transfer (Lopez-Paz & Ranzato 2017, GEM):
 * FWT = 1/(T-1) Σ_{j=1}^{T-1} (R[j-1][j] − b[j]).
 * Accuracy on experience j before training it, relative to the untrained model: positive = earlier
 * experiences helped the zero-shot accuracy on later ones. `null` when T < 2 (single experience:
 * there is no "before" except the untrained model itself) or when b is missing.
 */
export function forwardTransfer(R: AccuracyMatrix, b: readonly (number | null)[] | null): number | null {
  const m = checkMatrix(R);
  if (b === null) return null;
  const T = R.length;
  const terms: (number | null)[] = [];
  for (let j = 1; j < Math.min(T, m); j++) {
    const before = at(R, j - 1, j);
    const init = b[j] ?? null;
    terms.push(before === null || init === null ? null : before - init);
  }
  return meanOf(terms);
}

/**
 * Forgetting of each experience (Chaudhry et al. 2018, RWalk):
 * f_j = max_{l ∈ 0..T-2} R[l][j] − R[T-1][j] for j ∈ 0..T-2: the drop from the best accuracy ever
 * reached on j to its final accuracy (≥ 0 unless the last experience improved j beyond its best).
 * Index j of the result is f_j; the last trained experience (and columns ≥ T-1) get `null`.
 */
export function forgettingPerExperience(R: AccuracyMatrix): (number | null)[] {
  const m = checkMatrix(R);
  const T = R.length;
  const out: (number | null)[] = [];
  for (let j = 0; j < m; j++) {
    const final = at(R, T - 1, j);
    if (j >= T - 1 || final === null) {
      out.push(null);
      continue;
    }
    let best: number | null = null;
    for (let l = 0; l < T - 1; l++) {
      const v = at(R, l, j);
      if (v !== null && (best === null || v > best)) best = v;
    }
    out.push(best === null ? null : best - final);
  }
  return out;
}

/**
 * Average forgetting (Chaudhry et al. 2018): F = 1/(T-1) Σ_{j=0}^{T-2} f_j with f_j from
 * {@link forgettingPerExperience}. Positive = forgot. `null` when T < 2 (single experience).
 */
export function forgetting(R: AccuracyMatrix): number | null {
  return meanOf(forgettingPerExperience(R));
}

/**
 * Learning accuracy / plasticity: LA = (1/T) Σ_j R[j][j], the accuracy on each experience right
 * after training it. Single experience: R[0][0].
 */
export function learningAccuracy(R: AccuracyMatrix): number | null {
  const m = checkMatrix(R);
  const diag: (number | null)[] = [];
  for (let j = 0; j < Math.min(R.length, m); j++) diag.push(at(R, j, j));
  return meanOf(diag);
}

/** Every matrix metric of a run; `initial` is b (null when the untrained model was not evaluated). */
export function continualMetrics(R: AccuracyMatrix, initial: readonly (number | null)[] | null): ContinualMetrics {
  return {
    averageAccuracy: averageAccuracy(R),
    bwt: backwardTransfer(R),
    fwt: forwardTransfer(R, initial),
    forgetting: forgetting(R),
    learningAccuracy: learningAccuracy(R),
  };
}
