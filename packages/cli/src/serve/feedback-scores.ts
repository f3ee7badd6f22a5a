/** Prequential accuracy of one role's predictions, scored as their labels arrive. */
export interface RoleScore {
  /** Predictions whose label arrived. */
  readonly labelled: number;
  /** Accuracy over all of them (0 before the first). */
  readonly accuracy: number;
  /** Accuracy over the last `window` of them. */
  readonly windowAccuracy: number;
}

/** Who answered: the served version, or the shadowing candidate (`serve.shadow`). */
export type Role = 'served' | 'shadow';

class Tally {
  labelled = 0;
  right = 0;
  private readonly ring: number[] = [];
  private ringRight = 0;

  constructor(private readonly window: number) {}

  add(correct: boolean): void {
    this.labelled++;
    if (correct) this.right++;
    this.ring.push(correct ? 1 : 0);
    this.ringRight += correct ? 1 : 0;
    if (this.ring.length > this.window) this.ringRight -= this.ring.shift() ?? 0;
  }

  score(): RoleScore {
    return {
      labelled: this.labelled,
      accuracy: this.labelled === 0 ? 0 : this.right / this.labelled,
      windowAccuracy: this.ring.length === 0 ? 0 : this.ringRight / this.ring.length,
    };
  }
}

function tallyOf<K>(m: Map<K, Tally>, k: K, window: number): Tally {
  let t = m.get(k);
  if (!t) m.set(k, (t = new Tally(window)));
  return t;
}

/** Prequential error of a regression run's served predictions, scored as their targets arrive (target units). */
export interface ErrorScore {
  /** Predictions whose target arrived. */
  readonly labelled: number;
  /** Mean absolute error over all of them (0 before the first). */
  readonly mae: number;
  /** Over the last `window` of them. */
  readonly windowMae: number;
}

class ErrorTally {
  labelled = 0;
  private sum = 0;
  private readonly ring: number[] = [];
  private ringSum = 0;

  constructor(private readonly window: number) {}

  add(error: number): ErrorScore {
    this.labelled++;
    this.sum += error;
    this.ring.push(error);
    this.ringSum += error;
    if (this.ring.length > this.window) this.ringSum -= this.ring.shift() ?? 0;
    return this.score();
  }

  score(): ErrorScore {
    return {
      labelled: this.labelled,
      mae: this.labelled === 0 ? 0 : this.sum / this.labelled,
      windowMae: this.ring.length === 0 ? 0 : Math.max(0, this.ringSum) / this.ring.length,
    };
  }
}

/**
 * Delayed-label prequential scores of the served predictions and of the shadow predictions (River's
 * delayed prequential evaluation: a prediction is scored when its label arrives, with the label the
 * version predicted when it answered). Fed by POST /feedback; read by /versions, /metrics and the
 * dashboard. Also per version, for the version history. A regression run's predictions are scored by
 * their absolute error instead ({@link recordError}).
 */
export class FeedbackScores {
  private readonly roles = new Map<Role, Tally>();
  private readonly versions = new Map<number, Tally>();
  private readonly errors: ErrorTally;

  constructor(private readonly window = 200) {
    this.errors = new ErrorTally(window);
  }

  /** A regression run: scores one served prediction by its absolute error (mean over its targets). */
  recordError(absoluteError: number): ErrorScore {
    return this.errors.add(absoluteError);
  }

  /** A regression run's served error so far. */
  error(): ErrorScore {
    return this.errors.score();
  }

  /** Scores one prediction of `role` by `version`, `label` against the true `y`. */
  record(role: Role, version: number, label: number, y: number): RoleScore {
    tallyOf(this.roles, role, this.window).add(label === y);
    const v = tallyOf(this.versions, version, this.window);
    v.add(label === y);
    if (this.versions.size > 200) {
      const first = this.versions.keys().next().value;
      if (first !== undefined) this.versions.delete(first);
    }
    return v.score();
  }

  /** The role's scores so far. */
  role(role: Role): RoleScore {
    return this.roles.get(role)?.score() ?? { labelled: 0, accuracy: 0, windowAccuracy: 0 };
  }
}
