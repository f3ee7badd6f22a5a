import * as tf from '@tensorflow/tfjs';
import { Type, type Static } from '@sinclair/typebox';
import type { AdjustContext } from '../plugin-api/adjustment.js';
import type { EngramModel } from '../plugin-api/engram-model.js';
import type { EventSink } from '../events/event-sink.js';
import {
  buildPlan,
  chainOf,
  findLayer,
  nonNegativeInput,
  planOf,
  type HostWeight,
  type NewLayer,
} from './layer-surgery.js';
import { FromExperienceOption, SurgeryAdjustment } from './surgery.adjustment.js';
import { ACTIVATIONS, activationSchema } from './activations.js';

/** Options of the `insert-layer` adjustment. */
export const InsertLayerOptions = Type.Object(
  {
    after: Type.String({ description: 'Name of the layer the new one is inserted after.' }),
    type: Type.Optional(
      Type.Unsafe<'dense' | 'conv2d'>({
        type: 'string',
        enum: ['dense', 'conv2d'],
        enumDescriptions: [
          'A dense (fully connected) layer as wide as its input.',
          'A conv2d layer with as many filters as its input has channels, same padding.',
        ],
        description: 'Layer type; default: dense after a flat output, conv2d after an image-shaped one.',
      }),
    ),
    name: Type.Optional(Type.String({ description: 'Name of the new layer (default: "<after>_deeper").' })),
    activation: activationSchema(
      'Activation of the new layer. The identity start keeps the function for linear always and for relu/relu6 when ' +
        'its input is non-negative (after relu, sigmoid, softmax…).',
      'relu',
    ),
    kernelSize: Type.Integer({
      minimum: 1,
      default: 3,
      description:
        'conv2d only: odd kernel size; the layer uses stride 1 and "same" padding so its output has its input\'s shape.',
    }),
    init: Type.Unsafe<'identity' | 'random'>({
      type: 'string',
      enum: ['identity', 'random'],
      default: 'identity',
      description:
        '"identity" (Net2DeeperNet: identity kernel, zero bias) or "random" (seeded Glorot-uniform kernel, zero ' +
        'bias; changes the function).',
    }),
    fromExperience: FromExperienceOption,
  },
  { additionalProperties: false },
);

const IDENTITY_ACTIVATIONS = new Set(['linear']);
const IDENTITY_ON_NON_NEGATIVE = new Set(['relu', 'relu6']);

function identityKernel(type: 'dense' | 'conv2d', width: number, kernelSize: number): HostWeight {
  if (type === 'dense') {
    const data = new Float32Array(width * width);
    for (let i = 0; i < width; i++) data[i * width + i] = 1;
    return { shape: [width, width], data };
  }
  const data = new Float32Array(kernelSize * kernelSize * width * width);
  const mid = (kernelSize - 1) / 2;
  for (let c = 0; c < width; c++) data[((mid * kernelSize + mid) * width + c) * width + c] = 1;
  return { shape: [kernelSize, kernelSize, width, width], data };
}

/**
 * `insert-layer` (Net2DeeperNet, Chen et al. 2016): at experience `fromExperience`, inserts a dense
 * layer (after a flat output) or a stride-1 "same"-padded conv2d layer (after an image-shaped one)
 * right after layer `after`, as wide as its input so nothing else changes shape.
 *
 * With `init: "identity"` (default) its kernel is the identity (conv2d: identity centre tap) and its
 * bias zero, so the model computes the same function when the activation passes its input through:
 * always for `linear`; for `relu`/`relu6` when the input is non-negative — the nearest activation
 * before it is relu, relu6, sigmoid, softmax or softplus (through pooling, dropout, flatten), or
 * relu6's input stays below 6. Identity is impossible for activations that bend every input (tanh,
 * sigmoid, gelu, swish, elu, …) or relu after a possibly negative input: the layer still starts at
 * the identity kernel (the closest start), the function changes, and the run's event log gets a
 * `warning` saying so. `init: "random"` starts from a seeded Glorot-uniform kernel instead.
 *
 * Every existing variable keeps its name and so its optimizer slots; the new ones start fresh. Works
 * on any chain model, including one from `model.load`.
 */
export class InsertLayerAdjustment extends SurgeryAdjustment {
  constructor(
    private readonly options: Static<typeof InsertLayerOptions>,
    private readonly events?: EventSink,
  ) {
    super(options.fromExperience);
  }

  protected operate(model: EngramModel, ctx: AdjustContext): EngramModel {
    const chain = chainOf(model, 'insert-layer');
    const at = findLayer(chain, this.options.after, 'insert-layer');
    const name = this.options.name ?? `${this.options.after}_deeper`;
    if (chain.some((l) => l.layer.name === name))
      throw new Error(`insert-layer: the model already has a layer named "${name}"; choose another "name"`);
    const shape = chain[at]?.output.shape ?? [];
    const type = this.options.type ?? (shape.length === 4 ? 'conv2d' : 'dense');
    const width = shape[shape.length - 1];
    if (typeof width !== 'number')
      throw new Error(`insert-layer: the output of "${this.options.after}" has no fixed width`);
    if (type === 'dense' && shape.length !== 2)
      throw new Error(
        `insert-layer: a dense layer needs a flat input; "${this.options.after}" outputs ` +
          `[${shape.slice(1).join(', ')}] (use type conv2d, or insert after a flatten)`,
      );
    if (type === 'conv2d' && (shape.length !== 4 || this.options.kernelSize % 2 === 0))
      throw new Error(
        `insert-layer: a conv2d layer needs an image-shaped input and an odd kernelSize; "${this.options.after}" ` +
          `outputs [${shape.slice(1).join(', ')}]`,
      );
    const activation = this.options.activation;
    const kernelInitializer = tf.initializers.glorotUniform({ seed: ctx.rng.tfSeed() });
    const make = (): tf.layers.Layer =>
      type === 'dense'
        ? tf.layers.dense({ name, units: width, activation: ACTIVATIONS[activation], kernelInitializer })
        : tf.layers.conv2d({
            name,
            filters: width,
            kernelSize: this.options.kernelSize,
            padding: 'same',
            activation: ACTIVATIONS[activation],
            kernelInitializer,
          });
    const plan = planOf(chain);
    const entry: NewLayer = { make, name, className: type === 'dense' ? 'Dense' : 'Conv2D', activation };
    if (this.options.init === 'identity') {
      entry.weights = [
        identityKernel(type, width, this.options.kernelSize),
        { shape: [width], data: new Float32Array(width) },
      ];
      const keeps =
        IDENTITY_ACTIVATIONS.has(activation) ||
        (IDENTITY_ON_NON_NEGATIVE.has(activation) && nonNegativeInput(plan, at + 1));
      if (!keeps) {
        this.events?.emit({
          type: 'warning',
          message:
            `insert-layer: "${name}" (${activation}) after "${this.options.after}" cannot start as the ` +
            `identity there; the model's function changes at experience ${ctx.experience.index}`,
        });
      }
    } else {
      this.events?.emit({
        type: 'warning',
        message: `insert-layer: "${name}" starts from random weights; the model's function changes at experience ${ctx.experience.index}`,
      });
    }
    plan.splice(at + 1, 0, entry);
    return buildPlan(model, plan, ctx.experience.index);
  }
}
