import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from './string-enum.js';

const Activation = StringEnum(
  [
    'linear',
    'relu',
    'relu6',
    'elu',
    'selu',
    'sigmoid',
    'tanh',
    'softplus',
    'softsign',
    'swish',
    'mish',
    'gelu',
  ] as const,
  {
    description: 'Activation function.',
  },
);
const Padding = StringEnum(['valid', 'same'] as const, {
  description: 'valid: no padding (output shrinks); same: zero-pad so the output keeps the input size (stride 1).',
});
const Pair = Type.Unsafe<[number, number]>({
  type: 'array',
  prefixItems: [
    { type: 'integer', minimum: 1 },
    { type: 'integer', minimum: 1 },
  ],
  items: false,
  minItems: 2,
});
const Size2 = Type.Union([Type.Integer({ minimum: 1 }), Pair], { description: 'A size, or [height, width].' });
const strict = { additionalProperties: false } as const;
const UseBias = Type.Optional(Type.Boolean({ description: 'Add a learned bias (default true).' }));
const name = Type.Optional(
  Type.String({ description: 'Layer name (used by `freeze` and checkpoints).', pattern: '^[A-Za-z][A-Za-z0-9_]*$' }),
);

const layerBranches = [
  Type.Object(
    {
      type: Type.Literal('dense'),
      units: Type.Integer({ minimum: 1, description: 'Output units (neurons).' }),
      activation: Type.Optional(Activation),
      useBias: UseBias,
      name,
    },
    { ...strict, description: 'Fully connected layer (tf.layers.dense).' },
  ),
  Type.Object(
    {
      type: Type.Literal('conv2d'),
      filters: Type.Integer({ minimum: 1, description: 'Number of output channels (convolution kernels).' }),
      kernelSize: Size2,
      strides: Type.Optional(Size2),
      padding: Type.Optional(Padding),
      activation: Type.Optional(Activation),
      useBias: UseBias,
      name,
    },
    { ...strict, description: '2-D convolution over [height, width, channels] inputs (tf.layers.conv2d).' },
  ),
  Type.Object(
    {
      type: Type.Literal('maxPooling2d'),
      poolSize: Type.Optional(Size2),
      strides: Type.Optional(Size2),
      padding: Type.Optional(Padding),
      name,
    },
    { ...strict, description: '2-D max pooling (tf.layers.maxPooling2d).' },
  ),
  Type.Object(
    { type: Type.Literal('flatten'), name },
    { ...strict, description: 'Flattens each sample to a vector (tf.layers.flatten).' },
  ),
  Type.Object(
    {
      type: Type.Literal('dropout'),
      rate: Type.Number({
        minimum: 0,
        exclusiveMaximum: 1,
        description: 'Fraction of the inputs set to 0 during training (seeded).',
      }),
      name,
    },
    { ...strict, description: 'Dropout during training (tf.layers.dropout).' },
  ),
  Type.Object(
    {
      type: Type.Literal('batchNormalization'),
      momentum: Type.Optional(
        Type.Number({
          minimum: 0,
          maximum: 1,
          description: 'Momentum of the moving mean and variance (default 0.99).',
        }),
      ),
      epsilon: Type.Optional(
        Type.Number({
          exclusiveMinimum: 0,
          description: 'Added to the variance for numerical stability (default 0.001).',
        }),
      ),
      name,
    },
    { ...strict, description: 'Batch normalisation (tf.layers.batchNormalization).' },
  ),
  Type.Object(
    { type: Type.Literal('activation'), activation: Activation, name },
    { ...strict, description: 'Applies an activation function (tf.layers.activation).' },
  ),
  Type.Object(
    {
      type: Type.Literal('reshape'),
      targetShape: Type.Array(Type.Integer({ minimum: 1 }), {
        minItems: 1,
        description: 'Shape of each sample after the layer (without the batch axis).',
      }),
      name,
    },
    { ...strict, description: 'Reshapes each sample (tf.layers.reshape).' },
  ),
];

/** The layers a pipeline can declare, after tfjs-layers' names (TypeBox union, for the TS type). */
export const LayerSpecUnion = Type.Union(layerBranches);

/** One declared layer. */
export type LayerSpec = Static<typeof LayerSpecUnion>;

/** JSON schema of one layer: a union discriminated by `type`, so errors name only the chosen layer. */
export const LayerSpecSchema = Type.Unsafe<LayerSpec>({
  type: 'object',
  required: ['type'],
  discriminator: { propertyName: 'type' },
  oneOf: layerBranches,
  description: 'One layer; `type` selects it.',
});

/** Most layers a built model may declare (tfjs builds and walks a model recursively: deeper ones overflow the stack). */
export const MAX_MODEL_LAYERS = 1000;

const BuildModelSchema = Type.Object(
  {
    layers: Type.Array(LayerSpecSchema, {
      maxItems: MAX_MODEL_LAYERS,
      description: `Hidden layers, input first (at most ${MAX_MODEL_LAYERS}). A dense head named "head" with \`head.units\` outputs is appended.`,
    }),
    head: Type.Optional(
      Type.Object(
        {
          units: Type.Optional(
            Type.Integer({ minimum: 1, description: 'Output units; default: the number of classes of the stream.' }),
          ),
        },
        { ...strict, description: 'The classifier head appended to the layers.' },
      ),
    ),
  },
  { ...strict, description: 'Build a model from layers.' },
);
const LoadModelSchema = Type.Object(
  {
    load: Type.String({
      minLength: 1,
      description:
        'Path of a tfjs Layers `model.json` (relative to the pipeline file). Its last layer is the classifier head (logits).',
    }),
  },
  { ...strict, description: 'Start from a trained model.' },
);

/** The model section. */
export type ModelSpec = Static<typeof BuildModelSchema> | Static<typeof LoadModelSchema>;

/**
 * The model section: layers to build (a classifier head is appended) or a tfjs Layers model to load.
 * An if/then/else rather than a union, so that errors speak of the form the user chose.
 */
export const ModelSchema = Type.Unsafe<ModelSpec>({
  type: 'object',
  if: { required: ['load'] },
  then: LoadModelSchema,
  else: BuildModelSchema,
});
