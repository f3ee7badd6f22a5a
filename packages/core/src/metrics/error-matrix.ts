import { forgettingPerExperience, type AccuracyMatrix } from './continual-metrics.js';

/**
 * The error block of a regression run's summary: the same matrix form as the accuracy matrix, with
 * errors in the targets' own units (lower is better).
 */
export interface RegressionErrors {
  /** MAE[i][j]: mean absolute error on experience j after training experience i; null = not evaluated. */
  maeMatrix: (number | null)[][];
  /** RMSE[i][j], the same way. */
  rmseMatrix: (number | null)[][];
  /** MAE of the untrained model per experience; null when not evaluated. */
  initialMae: (number | null)[] | null;
  /** Mean of the last MAE row (over every evaluated experience). */
  averageMae: number | null;
  /** Mean of the last RMSE row. */
  averageRmse: number | null;
  /** MAE on each experience right after training it, averaged (plasticity). */
  learningMae: number | null;
  /**
   * Forgetting as error increase: per experience j < T-1, final MAE minus the lowest MAE reached on j
   * before the last experience (≥ 0 when it got worse); the mean in `forgetting`.
   */
  forgettingPerExperience: (number | null)[];
  forgetting: number | null;
}

function mean(values: readonly (number | null)[]): number | null {
  const v = values.filter((x): x is number => x !== null);
  return v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length;
}

/**
 * The error block from MAE and RMSE matrices (`initial`: MAE of the untrained model). Forgetting is the
 * accuracy forgetting of the negated matrix, so both follow one definition (Chaudhry et al. 2018).
 */
export function regressionErrors(
  mae: (number | null)[][],
  rmse: (number | null)[][],
  initial: (number | null)[] | null,
): RegressionErrors {
  const negated: AccuracyMatrix = mae.map((row) => row.map((v) => (v === null ? null : -v)));
  const perExperience = forgettingPerExperience(negated);
  const last = mae.length - 1;
  return {
    maeMatrix: mae,
    rmseMatrix: rmse,
    initialMae: initial,
    averageMae: last < 0 ? null : mean(mae[last] ?? []),
    averageRmse: last < 0 ? null : mean(rmse[last] ?? []),
    learningMae: mean(mae.map((row, i) => row[i] ?? null)),
    forgettingPerExperience: perExperience,
    forgetting: mean(perExperience),
  };
}
