import * as tf from '@tensorflow/tfjs';
import type { EngramModel } from '../plugin-api/engram-model.js';

/**
 * How one trainable variable of a model after a surgery relates to the model before it, for the
 * tensors strategies keep per variable position (EWC/SI/MAS anchors and importances, LwF's teacher).
 */
export interface VariableOrigin {
  /** Position in the previous model's `trainableVariables()` it derives from; undefined for a new variable. */
  readonly from: number | undefined;
  /**
   * A stored copy of the old variable's weights (an anchor θ*, a teacher's weights) as the surgery
   * turned the variable: same function, this variable's shape. Absent: the copy stays as it is.
   */
  readonly weights?: (old: tf.Tensor) => tf.Tensor;
  /**
   * A stored importance of the old variable (Fisher, Ω) in this variable's shape: the parts that
   * existed keep (rescaled) importance, the parts the surgery added get 0. Absent: as it is.
   */
  readonly importance?: (old: tf.Tensor) => tf.Tensor;
  /** A new variable's value right after the surgery (an inserted identity layer), for teachers; a new tensor per call. */
  readonly initial?: () => tf.Tensor;
}

/**
 * What a surgery did to the trainable variables at an experience start: one {@link VariableOrigin}
 * per variable of the new model, in `trainableVariables()` order. Strategies read it in
 * `adaptModel` ({@link surgeryLineage}) and re-key what they store per variable, so penalties cover
 * the parts that existed at their anchors and a teacher keeps computing the old function.
 */
export interface SurgeryLineage {
  /** Experience whose start the surgery ran at. */
  readonly experience: number;
  readonly origins: readonly VariableOrigin[];
}

const lineages = new WeakMap<EngramModel, SurgeryLineage>();

/**
 * Records that `model` came out of a surgery on `previous` at experience `experience`. When
 * `previous` itself came out of a surgery at the same experience start, the two are composed, so the
 * lineage always relates `model` to the model the experience started with.
 */
export function recordLineage(
  model: EngramModel,
  previous: EngramModel,
  experience: number,
  origins: readonly VariableOrigin[],
): void {
  const earlier = lineages.get(previous);
  if (!earlier || earlier.experience !== experience) {
    lineages.set(model, { experience, origins });
    return;
  }
  const composed = origins.map((o): VariableOrigin => {
    if (o.from === undefined) return o;
    const before = earlier.origins[o.from];
    if (!before) return { from: undefined };
    const chain = (
      a?: (t: tf.Tensor) => tf.Tensor,
      b?: (t: tf.Tensor) => tf.Tensor,
    ): ((t: tf.Tensor) => tf.Tensor) | undefined => (!a ? b : !b ? a : (t) => tf.tidy(() => b(a(t))));
    const weights = chain(before.weights, o.weights);
    const importance = chain(before.importance, o.importance);
    if (before.from === undefined) {
      const first = before.initial;
      const initial =
        first && o.weights
          ? (): tf.Tensor => tf.tidy(() => (o.weights as (t: tf.Tensor) => tf.Tensor)(first()))
          : first;
      return { from: undefined, ...(initial ? { initial } : {}) };
    }
    return { from: before.from, ...(weights ? { weights } : {}), ...(importance ? { importance } : {}) };
  });
  lineages.set(model, { experience, origins: composed });
}

/** The surgery `model` came out of at the start of experience `experience`, if any. */
export function surgeryLineage(model: EngramModel, experience: number): SurgeryLineage | undefined {
  const l = lineages.get(model);
  return l && l.experience === experience ? l : undefined;
}
