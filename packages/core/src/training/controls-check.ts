import { resolvePeriod } from './lr-schedule.js';
import type { PipelineDefinition } from '../pipeline/pipeline-definition.js';
import type { PipelineProblem } from '../plugin-api/pipeline-error.js';

/**
 * Problems of the training controls the schema cannot see: a step schedule without `stepSize`, a
 * cosine schedule whose period cannot be known in advance. Run by the loader after the schema passed
 * (so `engram validate` reports them, exit 2) and again by the run's `TrainingControls`.
 */
export function trainingControlProblems(def: Pick<PipelineDefinition, 'optimizer' | 'training'>): PipelineProblem[] {
  const schedule = def.optimizer.schedule;
  if (!schedule) return [];
  const problems: PipelineProblem[] = [];
  if (schedule.type === 'step' && schedule.stepSize === undefined)
    problems.push({ path: '/optimizer/schedule/stepSize', message: 'a step schedule needs stepSize' });
  const period = resolvePeriod(schedule, def.training);
  if (typeof period === 'string') problems.push({ path: '/optimizer/schedule/period', message: period });
  return problems;
}
