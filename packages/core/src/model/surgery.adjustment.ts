import { Type } from '@sinclair/typebox';
import type { Adjustment, AdjustContext } from '../plugin-api/adjustment.js';
import type { EngramModel } from '../plugin-api/engram-model.js';
import type { SerializedState } from '../plugin-api/serialized-state.js';

/** The `fromExperience` option every surgery adjustment takes. */
export const FromExperienceOption = Type.Integer({
  minimum: 0,
  default: 1,
  description:
    'Operate once, at the start of this experience (or of the first later one the run reaches); 0 = before the first.',
});

/**
 * Base of the one-shot model surgeries (`insert-layer`, `widen-layer`, `set-activation`,
 * `reinit-layers`): `apply` operates once, at the first experience start whose index is at least
 * `fromExperience`, and is a no-op before and after. Whether it has operated is the adjustment's
 * checkpointed state, so a run resumed after the surgery (whose checkpoint already holds the changed
 * topology) does not operate twice, and one resumed before it operates at the same point with the same
 * generator — the resumed run is bit-identical to an uninterrupted one.
 */
export abstract class SurgeryAdjustment implements Adjustment {
  private applied = false;

  protected constructor(private readonly fromExperience: number) {}

  apply(model: EngramModel, ctx: AdjustContext): EngramModel | void {
    if (ctx.experience.index < this.fromExperience) return;
    if (this.applied) return this.ensure(model);
    const next = this.operate(model, ctx);
    this.applied = true;
    return next;
  }

  /**
   * Called at every later experience start (and at the resumed one) once the surgery has operated:
   * puts back a change the model's weights alone do not carry. A resumed run rebuilds the model from
   * the checkpoint's topology only when the weights no longer fit the pipeline's model; a surgery that
   * keeps every shape (`set-activation`) re-applies itself here, silently. Default: nothing.
   */
  protected ensure(_model: EngramModel): EngramModel | void {
    return undefined;
  }

  /**
   * The surgery itself. Returns a replacement model (kept layers shared with `model`; the engine
   * disposes the rest of `model`) or nothing when it changed `model` in place.
   */
  protected abstract operate(model: EngramModel, ctx: AdjustContext): EngramModel | void;

  state(): SerializedState {
    return { meta: { applied: this.applied } };
  }

  restore(state: SerializedState): void {
    const meta = state.meta;
    this.applied = meta !== null && typeof meta === 'object' && !Array.isArray(meta) && meta['applied'] === true;
  }
}
