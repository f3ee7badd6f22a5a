import type { ComponentRegistry } from '../plugin/component-registry.js';
import type { PipelineDefinition } from './pipeline-definition.js';
import type { PipelineProblem } from '../plugin-api/pipeline-error.js';
import { pipelineParts } from './pipeline-parts.js';

/**
 * Problems of `task` the schema cannot see: a classification pipeline with a regression loss (or the
 * reverse), and in a `task: "regression"` pipeline every component whose descriptor says it needs
 * classes (`classesOnly`) and the accuracy-based promotion gates (`serve.promote.maxForgetting`,
 * `serve.promote.feedback`), each at its own pointer. Run by the loader after the schema passed, so
 * `engram validate` and `engram run` refuse alike (exit 2). Pure.
 */
export function taskProblems(def: PipelineDefinition, registry: ComponentRegistry): PipelineProblem[] {
  const problems: PipelineProblem[] = [];
  const regression = def.task === 'regression';
  const loss = def.training.loss;
  if (loss !== undefined && regression && loss === 'cross-entropy')
    problems.push({
      path: '/training/loss',
      message: 'task "regression" trains with mse, mae or huber, not cross-entropy',
    });
  if (loss !== undefined && !regression && loss !== 'cross-entropy')
    problems.push({
      path: '/training/loss',
      message: `"${loss}" is a regression loss: set "task": "regression" or use cross-entropy`,
    });
  if (!regression) return problems;
  // The promotion gates score versions by accuracy; a regression run's would need error gates (not built).
  const promote = def.serve?.promote;
  for (const gate of ['maxForgetting', 'feedback'] as const)
    if (promote?.[gate] !== undefined)
      problems.push({
        path: `/serve/promote/${gate}`,
        message: `the ${gate} promotion gate compares accuracies and cannot gate a task "regression" run (error-based gates are not built): remove it (serve.promote.finite still checks every output is finite)`,
      });
  for (const part of pipelineParts(def)) {
    const reason = registry.get(part.role, part.kind)?.classesOnly;
    if (reason !== undefined)
      problems.push({
        path: part.pointer,
        message: `${part.noun} "${part.kind}" needs classes (${reason}) and cannot train task "regression"`,
      });
  }
  return problems;
}
