import { inject, injectable } from 'inversify';
import type { Adjustment, AdjustContext } from '../model/adjustment.js';
import type { EngramModel } from '../model/engram-model.js';
import { STAGE_TOKENS } from './stage-tokens.js';

/**
 * Stage 2: model adjustments at each experience start (grow the head, freeze layers, multi-head).
 * A model replaced by an adjustment is disposed unless the new one still uses its network.
 */
@injectable()
export class AdjustStage {
  constructor(@inject(STAGE_TOKENS.Adjustments) readonly adjustments: readonly Adjustment[]) {}

  async apply(model: EngramModel, ctx: AdjustContext): Promise<EngramModel> {
    let current = model;
    for (const a of this.adjustments) {
      const next = await a.apply(current, ctx);
      if (next && next !== current) {
        if (next.network !== current.network) current.dispose();
        current = next;
      }
    }
    return current;
  }
}
