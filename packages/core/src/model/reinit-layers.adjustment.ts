import { Type, type Static } from '@sinclair/typebox';
import type * as tf from '@tensorflow/tfjs';
import type { AdjustContext } from '../plugin-api/adjustment.js';
import type { EngramModel } from '../plugin-api/engram-model.js';
import type { EventSink } from '../events/event-sink.js';
import { activationOf, buildPlan, chainOf, cloneLayer, findLayer, hostWeights, planOf } from './layer-surgery.js';
import { FromExperienceOption, SurgeryAdjustment } from './surgery.adjustment.js';

/** Options of the `reinit-layers` adjustment. */
export const ReinitLayersOptions = Type.Object(
  {
    layers: Type.Array(Type.String(), { minItems: 1, description: 'Names of the layers to re-initialise.' }),
    fromExperience: FromExperienceOption,
  },
  { additionalProperties: false },
);

/** Initialisers without randomness (they take no seed). */
const DETERMINISTIC = new Set(['Zeros', 'Ones', 'Constant', 'Identity']);

/** The layer's configuration with a seed from `rng` in every random initialiser. */
function seededInitializers(config: tf.serialization.ConfigDict, ctx: AdjustContext): tf.serialization.ConfigDict {
  const out: tf.serialization.ConfigDict = {};
  for (const [key, value] of Object.entries(config)) {
    if (!key.endsWith('Initializer') || value === null || typeof value !== 'object' || Array.isArray(value)) continue;
    const className = value['className'];
    const inner = value['config'];
    if (typeof className !== 'string' || DETERMINISTIC.has(className)) continue;
    const innerConfig = inner !== null && typeof inner === 'object' && !Array.isArray(inner) ? inner : {};
    out[key] = { className, config: { ...innerConfig, seed: ctx.rng.tfSeed() } };
  }
  return out;
}

/**
 * `reinit-layers`: at experience `fromExperience`, re-initialises the named layers with their own
 * initialisers (kernel Glorot-uniform for layers Engram builds, bias zero, batch-norm statistics
 * reset), seeded from the run's generator. The layers are rebuilt with the same names and shapes but
 * new variables, so their optimizer slots start fresh (stale Adam moments of the old weights would
 * otherwise steer the new ones) while every other variable keeps its slots. The function changes; a
 * `warning` event says so. Penalty strategies keep anchoring these variables at their old values.
 */
export class ReinitLayersAdjustment extends SurgeryAdjustment {
  constructor(
    private readonly options: Static<typeof ReinitLayersOptions>,
    private readonly events?: EventSink,
  ) {
    super(options.fromExperience);
  }

  protected operate(model: EngramModel, ctx: AdjustContext): EngramModel {
    const chain = chainOf(model, 'reinit-layers');
    const plan = planOf(chain);
    for (const name of this.options.layers) {
      const i = findLayer(chain, name, 'reinit-layers');
      const source = chain[i]?.layer;
      if (!source) continue;
      if (source.weights.length === 0) throw new Error(`reinit-layers: layer "${name}" has no weights`);
      // Draw the new values with a seeded copy, but keep the layer's own configuration (initialiser
      // seeds included) so the checkpointed topology does not depend on where a run was resumed.
      const draw = cloneLayer(source, seededInitializers(source.getConfig(), ctx));
      const input = i > 0 ? chain[i - 1]?.output : model.network.inputs[0];
      draw.build(input?.shape ?? []);
      const weights = hostWeights(draw);
      for (const w of draw.weights) w.dispose();
      plan[i] = {
        make: () => cloneLayer(source, {}),
        weights,
        name,
        className: source.getClassName(),
        activation: activationOf(source),
        origin: source,
      };
    }
    this.events?.emit({
      type: 'warning',
      message:
        `reinit-layers: ${this.options.layers.map((n) => `"${n}"`).join(', ')} re-initialised at experience ` +
        `${ctx.experience.index}; the model's function changes`,
    });
    return buildPlan(model, plan, ctx.experience.index);
  }
}
