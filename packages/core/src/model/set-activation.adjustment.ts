import * as tf from '@tensorflow/tfjs';
import { Type, type Static } from '@sinclair/typebox';
import type { AdjustContext } from '../plugin-api/adjustment.js';
import type { EngramModel } from '../plugin-api/engram-model.js';
import type { EventSink } from '../events/event-sink.js';
import { activationOf, chainOf, findLayer } from './layer-surgery.js';
import { FromExperienceOption, SurgeryAdjustment } from './surgery.adjustment.js';
import { ACTIVATIONS, activationSchema } from './activations.js';

/** Options of the `set-activation` adjustment. */
export const SetActivationOptions = Type.Object(
  {
    layers: Type.Array(Type.String(), {
      minItems: 1,
      description: 'Names of the dense, conv2d or activation layers whose activation is replaced.',
    }),
    activation: activationSchema('The new activation function.'),
    fromExperience: FromExperienceOption,
  },
  { additionalProperties: false },
);

/**
 * `set-activation`: at experience `fromExperience`, replaces the activation function of the named
 * dense, conv2d or activation layers (e.g. relu → gelu). The layers keep their variables — names,
 * values and optimizer slots — and the checkpointed topology records the new activation. This changes
 * the function the model computes, so a `warning` event in the run's log says which layers changed and
 * from what; strategies' anchors, teachers and stored logits refer to the function before the change.
 */
export class SetActivationAdjustment extends SurgeryAdjustment {
  constructor(
    private readonly options: Static<typeof SetActivationOptions>,
    private readonly events?: EventSink,
  ) {
    super(options.fromExperience);
  }

  protected operate(model: EngramModel, ctx: AdjustContext): void {
    const changed = this.swap(model);
    if (changed.length > 0) {
      this.events?.emit({
        type: 'warning',
        message: `set-activation: ${changed.join(', ')} at experience ${ctx.experience.index}; the model's function changes`,
      });
    }
  }

  /** A resumed model rebuilt from the pipeline with the checkpoint's weights still has the old activations. */
  protected override ensure(model: EngramModel): void {
    this.swap(model);
  }

  /** Sets the activation of every named layer; returns what changed (`"name" old → new`). */
  private swap(model: EngramModel): string[] {
    const chain = chainOf(model, 'set-activation');
    const target = ACTIVATIONS[this.options.activation];
    // The activation object a fresh layer builds for the identifier (no weights are created).
    const fresh: unknown = Reflect.get(tf.layers.activation({ activation: target }), 'activation');
    const changed: string[] = [];
    for (const name of this.options.layers) {
      const layer = chain[findLayer(chain, name, 'set-activation')]?.layer;
      const before = layer ? activationOf(layer) : undefined;
      if (!layer || before === undefined || !Reflect.has(layer, 'activation'))
        throw new Error(`set-activation: layer "${name}" has no activation to replace`);
      if (before === target) continue;
      Reflect.set(layer, 'activation', fresh);
      changed.push(`"${name}" ${before} → ${target}`);
    }
    return changed;
  }
}
