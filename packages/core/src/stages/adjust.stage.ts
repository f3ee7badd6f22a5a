import { inject, injectable } from 'inversify';
import type { Adjustment, AdjustContext } from '../model/adjustment.js';
import { disposeReplacedModel, type EngramModel } from '../model/engram-model.js';
import { STAGE_TOKENS } from './stage-tokens.js';

/**
 * Stage 2: model adjustments at each experience start (grow the head, freeze layers, multi-head).
 * Layers of a replaced model that the new one no longer uses are disposed.
 */
@injectable()
export class AdjustStage {
  constructor(@inject(STAGE_TOKENS.Adjustments) readonly adjustments: readonly Adjustment[]) {}

  async apply(model: EngramModel, ctx: AdjustContext): Promise<EngramModel> {
    let current = model;
    for (const a of this.adjustments) {
      const next = await a.apply(current, ctx);
      if (next && next !== current) {
        disposeReplacedModel(current, next);
        current = next;
      }
    }
    return current;
  }
}
