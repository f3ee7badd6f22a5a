import type { ScheduleSpec } from '../pipeline/schedule.schema.js';

/** Where a run is, in the units a schedule counts (kept and checkpointed by `TrainingControls`). */
export interface ScheduleCounters {
  /** Optimizer steps since the run started (continued by `--from`). */
  runSteps: number;
  /** Epochs finished since the run started. */
  runEpochs: number;
  /** Optimizer steps in the current experience. */
  experienceSteps: number;
  /** Epochs finished in the current experience. */
  experienceEpochs: number;
}

/** Fresh counters. */
export function zeroCounters(): ScheduleCounters {
  return { runSteps: 0, runEpochs: 0, experienceSteps: 0, experienceEpochs: 0 };
}

/** The counter `t` a schedule reads (see {@link ScheduleSpec}). */
export function scheduleTime(spec: ScheduleSpec, c: ScheduleCounters): number {
  const byStep = (spec.interval ?? 'epoch') === 'step';
  if ((spec.scope ?? 'experience') === 'run') return byStep ? c.runSteps : c.runEpochs;
  return byStep ? c.experienceSteps : c.experienceEpochs;
}

/**
 * The learning rate at count `t` of `spec` for base rate `base` (formulas in {@link ScheduleSpec}'s
 * schema). `period` is the cosine period already resolved (see `resolvePeriod`). Pure: called before
 * every optimizer step by the train stage.
 */
export function learningRateAt(spec: ScheduleSpec, base: number, t: number, period = 1): number {
  const warmup = spec.warmup ?? 0;
  if (t < warmup) return (base * (t + 1)) / warmup;
  const u = t - warmup;
  switch (spec.type) {
    case 'constant':
      return base;
    case 'step':
      return base * Math.pow(spec.gamma ?? 0.1, Math.floor(u / (spec.stepSize ?? 1)));
    case 'exponential':
      return base * Math.pow(spec.gamma ?? 0.95, u);
    case 'cosine': {
      const min = spec.minLearningRate ?? 0;
      return min + ((base - min) * (1 + Math.cos((Math.PI * Math.min(u, period)) / period))) / 2;
    }
  }
}

/**
 * The cosine period of `spec`: its own, or for an experience-scoped schedule the experience's epochs
 * (interval epoch) or `iterations` (interval step) minus the warm-up. Returns a message when it cannot
 * be known (the caller reports it at `/optimizer/schedule/period`).
 */
export function resolvePeriod(
  spec: ScheduleSpec,
  training: { readonly epochs?: number; readonly iterations?: number },
): number | string {
  if (spec.type !== 'cosine') return 1;
  if (spec.period !== undefined) return spec.period;
  const warmup = spec.warmup ?? 0;
  if ((spec.scope ?? 'experience') === 'experience') {
    const length =
      (spec.interval ?? 'epoch') === 'epoch'
        ? training.iterations === undefined
          ? (training.epochs ?? 1)
          : undefined
        : training.iterations;
    if (length !== undefined) return Math.max(1, length - warmup);
  }
  return 'a cosine schedule needs a period here (the length of an experience or of the run is not known in advance)';
}
