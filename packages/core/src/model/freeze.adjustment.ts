import { Type, type Static } from '@sinclair/typebox';
import type { Adjustment, AdjustContext } from '../plugin-api/adjustment.js';
import type { EngramModel } from '../plugin-api/engram-model.js';

/** Options of the `freeze` adjustment. */
export const FreezeOptions = Type.Object(
  {
    layers: Type.Optional(Type.Array(Type.String(), { description: 'Names of the layers to freeze.' })),
    firstLayers: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Freeze the first N layers (input layer excluded).' }),
    ),
    fromExperience: Type.Integer({
      minimum: 0,
      default: 1,
      description: 'Freeze from this experience on (0 = from the start).',
    }),
  },
  { additionalProperties: false },
);

/**
 * `freeze`: from experience `fromExperience` on, marks the named layers (or the first N) as not
 * trainable; the optimizer then leaves them unchanged (the trainer re-reads the trainable variables).
 */
export class FreezeAdjustment implements Adjustment {
  constructor(private readonly options: Static<typeof FreezeOptions>) {}

  apply(model: EngramModel, ctx: AdjustContext): void {
    if (ctx.experience.index < this.options.fromExperience) return;
    const layers = model.network.layers.filter((l) => l.getClassName() !== 'InputLayer');
    const names = new Set(this.options.layers ?? []);
    const known = new Set(layers.map((l) => l.name));
    for (const n of names)
      if (!known.has(n)) throw new Error(`freeze: no layer named "${n}" (layers: ${[...known].join(', ')})`);
    layers.forEach((layer, i) => {
      if (names.has(layer.name) || (this.options.firstLayers !== undefined && i < this.options.firstLayers))
        layer.trainable = false;
    });
  }
}
