import { placeAnchored } from '../pipeline/stage-anchors.js';
import type { Stage } from '../plugin-api/stage.js';

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
 * may be anchored at an earlier plugin stage's name. An unknown anchor is a pipeline error (`PipelineError`).
 * The rule is {@link placeAnchored}, which the loader applies to the pipeline's kinds too.
 */
export function orderStages(builtins: readonly Stage[], extra: readonly PlacedStage[]): Stage[] {
  return placeAnchored(
    builtins,
    extra.map(({ stage, ...position }) => ({ item: stage, ...position })),
    (s) => s.name,
  );
}
