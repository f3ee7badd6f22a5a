import * as tf from '@tensorflow/tfjs';
import { Type, type Static } from '@sinclair/typebox';
import type { Adjustment, AdjustContext } from '../plugin-api/adjustment.js';
import { LayersEngramModel, type EngramModel } from '../plugin-api/engram-model.js';

/** Options of the `grow-head` adjustment. */
export const GrowHeadOptions = Type.Object(
  {
    to: Type.Unsafe<'seen' | 'all'>({
      type: 'string',
      enum: ['seen', 'all'],
      default: 'seen',
      description: 'Grow to cover the classes seen so far, or all classes of the stream.',
    }),
  },
  { additionalProperties: false },
);

/**
 * `grow-head`: at each experience start, widens the classifier head (the model's last dense layer) so
 * that every class seen so far — or every class of the stream — has an output. Existing rows keep
 * their trained weights; new ones start from the seeded initialiser, new biases at zero.
 * The model must be a plain layers model whose last layer is dense (apply it before wrappers such as
 * `multi-head`).
 */
export class GrowHeadAdjustment implements Adjustment {
  constructor(private readonly options: Static<typeof GrowHeadOptions>) {}

  apply(model: EngramModel, ctx: AdjustContext): EngramModel | void {
    const wanted = this.options.to === 'all' ? ctx.info.numClasses : Math.max(0, ...ctx.seenClasses) + 1;
    if (wanted <= model.outputs()) return;
    const net = model.network;
    const head = net.layers[net.layers.length - 1];
    if (!head || head.getClassName() !== 'Dense' || !(model instanceof LayersEngramModel)) {
      throw new Error(
        'grow-head needs a model whose last layer is a dense head (apply it before wrapping adjustments)',
      );
    }
    const [kernel, bias] = head.getWeights();
    if (!kernel) throw new Error('grow-head: the head has no kernel');
    const inputs = kernel.shape[0] ?? 0;
    // the tensor the head is applied to, in this network (a graph's output node need not be the
    // second-to-last layer)
    const features = net.outputs[0]?.inputs[0] ?? net.inputs[0];
    if (!features) throw new Error('grow-head: the model has no input');
    const grown = tf.layers.dense({
      units: wanted,
      name: `head_${wanted}`,
      kernelInitializer: tf.initializers.glorotUniform({ seed: ctx.rng.tfSeed() }),
    });
    const output = grown.apply(features) as tf.SymbolicTensor;
    const network = tf.model({ inputs: net.inputs, outputs: output });
    const [freshKernel] = grown.getWeights();
    const newWeights = tf.tidy(() => {
      const k = tf.concat(
        [kernel, tf.slice(freshKernel as tf.Tensor, [0, model.outputs()], [inputs, wanted - model.outputs()])],
        1,
      );
      const b = tf.concat([bias ?? tf.zeros([model.outputs()]), tf.zeros([wanted - model.outputs()])]);
      return [k, b];
    });
    grown.setWeights(newWeights);
    for (const t of newWeights) t.dispose();
    return new LayersEngramModel(network);
  }
}
