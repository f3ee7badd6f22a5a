import { PipelineError } from '../pipeline/pipeline-error.js';
import type { Stage } from './stage.js';

/** A plugin stage with its position as the pipeline declares it. */
export interface PlacedStage {
  readonly stage: Stage;
  /** JSON pointer of the entry (`/stages/0`), for errors. */
  readonly path: string;
  readonly after?: string;
  readonly before?: string;
}

/**
 * The run's stages in order: the built-ins, with each plugin stage inserted right after its `after`
 * stage or right before its `before` stage (default: before `checkpoint`, so a checkpoint includes
 * its state). Plugin stages anchored at the same place keep their declared order; a plugin stage
 * may be anchored at an earlier plugin stage's name. An unknown anchor is a {@link PipelineError}.
 */
export function orderStages(builtins: readonly Stage[], extra: readonly PlacedStage[]): Stage[] {
  const order = [...builtins];
  const afterCount = new Map<Stage, number>();
  for (const p of extra) {
    if (p.after !== undefined && p.before !== undefined)
      throw PipelineError.at(p.path, 'give "after" or "before", not both');
    const anchorName = p.after ?? p.before ?? 'checkpoint';
    const anchor = order.find((s) => s.name === anchorName);
    if (!anchor)
      throw PipelineError.at(
        `${p.path}/${p.after !== undefined ? 'after' : 'before'}`,
        `unknown stage "${anchorName}"; known: ${order.map((s) => s.name).join(', ')}`,
      );
    const at = order.indexOf(anchor);
    if (p.after !== undefined) {
      const n = afterCount.get(anchor) ?? 0;
      order.splice(at + 1 + n, 0, p.stage);
      afterCount.set(anchor, n + 1);
    } else {
      order.splice(at, 0, p.stage);
    }
  }
  return order;
}
