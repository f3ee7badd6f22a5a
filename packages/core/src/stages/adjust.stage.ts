import { inject, injectable } from 'inversify';
import type { OperatorFunction } from 'rxjs';
import type { Experience } from '../data/experience.js';
import { RunState } from '../run/run-state.js';
import type { Adjustment } from '../plugin-api/adjustment.js';
import { disposeReplacedModel } from '../plugin-api/engram-model.js';
import { eachItem } from './each-item.js';
import type { RunItem } from '../plugin-api/run-item.js';
import type { Stage } from '../plugin-api/stage.js';
import { STAGE_TOKENS } from './stage-tokens.js';

/**
 * Stage `adjust`: the pipeline's model adjustments at each `experience-start` (grow the head, freeze
 * layers, multi-head masks), in order. Layers of a replaced model that the new one no longer uses are
 * disposed. Every other item passes untouched.
 */
@injectable()
export class AdjustStage implements Stage {
  readonly name = 'adjust';

  constructor(
    @inject(STAGE_TOKENS.Adjustments) readonly adjustments: readonly Adjustment[],
    @inject(STAGE_TOKENS.RunState) private readonly state: RunState,
  ) {}

  operator(): OperatorFunction<RunItem, RunItem> {
    return eachItem((item) =>
      item.kind === 'experience-start' && this.adjustments.length > 0 ? this.apply(item.experience) : undefined,
    );
  }

  private async apply(experience: Experience): Promise<void> {
    const state = this.state;
    const ctx = {
      experience,
      info: state.info,
      seenClasses: [...state.seenClasses].sort((a, b) => a - b),
      rng: state.rng.derive(`adjust:${experience.index}`),
    };
    let current = state.model;
    for (const a of this.adjustments) {
      const next = await a.apply(current, ctx);
      if (next && next !== current) {
        disposeReplacedModel(current, next);
        current = next;
      }
    }
    state.model = current;
  }
}
