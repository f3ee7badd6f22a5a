import { Type, type Static, type TLiteral, type TObject, type TProperties } from '@sinclair/typebox';
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
const RecurrentActivation = StringEnum(['hardSigmoid', 'sigmoid', 'tanh', 'relu', 'linear'] as const, {
  description: "Activation of the recurrent gates (tfjs-layers' default hardSigmoid; PyTorch's LSTM/GRU use sigmoid).",
});
const Padding = StringEnum(['valid', 'same'] as const, {
  description:
    "valid: no padding (output shrinks); same: zero-pad so the output has ceil(input / stride) positions (TensorFlow's placement: an odd total pads more at the bottom/right — use zeroPadding2d + valid for PyTorch's symmetric padding).",
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
const Pad = Type.Integer({ minimum: 0 });
const PadPair = Type.Unsafe<[number, number]>({
  type: 'array',
  prefixItems: [Pad, Pad],
  items: false,
  minItems: 2,
});
const PadSides = Type.Unsafe<[[number, number], [number, number]]>({
  type: 'array',
  prefixItems: [PadPair, PadPair],
  items: false,
  minItems: 2,
});
const ZeroPadding = Type.Union([Pad, PadPair, PadSides], {
  description:
    'Zeros added around each image: n (all four sides), [rows, columns] (symmetric), or [[top, bottom], [left, right]].',
});
const strict = { additionalProperties: false } as const;
const UseBias = Type.Optional(Type.Boolean({ description: 'Add a learned bias (default true).' }));
const Axis = (what: string): ReturnType<typeof Type.Integer> =>
  Type.Integer({ description: `${what} (negative counts from the last axis; the batch axis is 0).` });
const ReturnSequences = Type.Optional(
  Type.Boolean({
    description: 'Output the whole sequence [steps, units] instead of the last step [units] (default false).',
  }),
);

/**
 * The options of each layer type, after tfjs-layers' names and defaults: one table shared by the
 * `layers` form (stack) and the `graph` form (named nodes), so both accept the same layers.
 */
const LAYER_OPTIONS = {
  dense: {
    description: 'Fully connected layer (tf.layers.dense).',
    props: {
      units: Type.Integer({ minimum: 1, description: 'Output units (neurons).' }),
      activation: Type.Optional(Activation),
      useBias: UseBias,
    },
  },
  conv2d: {
    description: '2-D convolution over [height, width, channels] inputs (tf.layers.conv2d).',
    props: {
      filters: Type.Integer({ minimum: 1, description: 'Number of output channels (convolution kernels).' }),
      kernelSize: Size2,
      strides: Type.Optional(Size2),
      padding: Type.Optional(Padding),
      activation: Type.Optional(Activation),
      useBias: UseBias,
    },
  },
  depthwiseConv2d: {
    description:
      'Depthwise 2-D convolution: each input channel convolved with its own depthMultiplier kernels (tf.layers.depthwiseConv2d).',
    props: {
      kernelSize: Size2,
      depthMultiplier: Type.Optional(
        Type.Integer({ minimum: 1, description: 'Output channels per input channel (default 1).' }),
      ),
      strides: Type.Optional(Size2),
      padding: Type.Optional(Padding),
      activation: Type.Optional(Activation),
      useBias: UseBias,
    },
  },
  maxPooling2d: {
    description: '2-D max pooling (tf.layers.maxPooling2d).',
    props: {
      poolSize: Type.Optional(Size2),
      strides: Type.Optional(Size2),
      padding: Type.Optional(Padding),
    },
  },
  averagePooling2d: {
    description: '2-D average pooling (tf.layers.averagePooling2d); poolSize defaults to 2, strides to poolSize.',
    props: {
      poolSize: Type.Optional(Size2),
      strides: Type.Optional(Size2),
      padding: Type.Optional(Padding),
    },
  },
  globalAveragePooling2d: {
    description: 'Mean over height and width: [h, w, c] → [c] (tf.layers.globalAveragePooling2d).',
    props: {},
  },
  zeroPadding2d: {
    description: 'Pads images with zeros (tf.layers.zeroPadding2d).',
    props: { padding: Type.Optional(ZeroPadding) },
  },
  flatten: { description: 'Flattens each sample to a vector (tf.layers.flatten).', props: {} },
  dropout: {
    description: 'Dropout during training (tf.layers.dropout).',
    props: {
      rate: Type.Number({
        minimum: 0,
        exclusiveMaximum: 1,
        description: 'Fraction of the inputs set to 0 during training (seeded).',
      }),
    },
  },
  batchNormalization: {
    description: 'Batch normalisation over the last axis (tf.layers.batchNormalization).',
    props: {
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
    },
  },
  layerNormalization: {
    description: 'Normalises each sample over its last axis, then scales and shifts (tf.layers.layerNormalization).',
    props: {
      axis: Type.Optional(Axis('Axis normalised over (default -1)')),
      epsilon: Type.Optional(
        Type.Number({
          exclusiveMinimum: 0,
          description: 'Added to the variance for numerical stability (default 0.001).',
        }),
      ),
      center: Type.Optional(Type.Boolean({ description: 'Learn an offset beta (default true).' })),
      scale: Type.Optional(Type.Boolean({ description: 'Learn a scale gamma (default true).' })),
    },
  },
  activation: {
    description: 'Applies an activation function (tf.layers.activation).',
    props: { activation: Activation },
  },
  reshape: {
    description: 'Reshapes each sample (tf.layers.reshape).',
    props: {
      targetShape: Type.Array(Type.Integer({ minimum: 1 }), {
        minItems: 1,
        description: 'Shape of each sample after the layer (without the batch axis).',
      }),
    },
  },
  embedding: {
    description:
      'Maps integer token ids [steps] to vectors [steps, outputDim] (tf.layers.embedding). Ids must lie in [0, inputDim).',
    props: {
      inputDim: Type.Integer({ minimum: 1, description: 'Vocabulary size: token ids run from 0 to inputDim - 1.' }),
      outputDim: Type.Integer({ minimum: 1, description: 'Length of each token vector.' }),
    },
  },
  lstm: {
    description: 'Long short-term memory over [steps, features] inputs (tf.layers.lstm).',
    props: {
      units: Type.Integer({ minimum: 1, description: 'Size of the hidden state.' }),
      activation: Type.Optional(Activation),
      recurrentActivation: Type.Optional(RecurrentActivation),
      returnSequences: ReturnSequences,
      unitForgetBias: Type.Optional(
        Type.Boolean({ description: 'Start the forget gate bias at 1 (default true, as tfjs and Keras).' }),
      ),
      useBias: UseBias,
    },
  },
  gru: {
    description:
      'Gated recurrent unit over [steps, features] inputs (tf.layers.gru: the reset gate is applied before the recurrent kernel).',
    props: {
      units: Type.Integer({ minimum: 1, description: 'Size of the hidden state.' }),
      activation: Type.Optional(Activation),
      recurrentActivation: Type.Optional(RecurrentActivation),
      returnSequences: ReturnSequences,
      useBias: UseBias,
    },
  },
  add: {
    description: 'Element-wise sum of two or more inputs of one shape (tf.layers.add). Graph nodes only.',
    props: {},
  },
  concatenate: {
    description: 'Joins two or more inputs along an axis (tf.layers.concatenate). Graph nodes only.',
    props: { axis: Type.Optional(Axis('Axis joined along (default -1, the channels)')) },
  },
} satisfies Record<string, { description: string; props: TProperties }>;

/** Layer types that merge several inputs: only graph nodes can feed them. */
export const MERGE_LAYERS: ReadonlySet<string> = new Set(['add', 'concatenate']);

type LayerTable = typeof LAYER_OPTIONS;
type LayerType = keyof LayerTable;

const layerName = Type.Optional(
  Type.String({ description: 'Layer name (used by `freeze` and checkpoints).', pattern: '^[A-Za-z][A-Za-z0-9_]*$' }),
);

type ObjectOf<P> = P extends TProperties ? TObject<P> : never;
type Branch<K extends LayerType> = ObjectOf<{ type: TLiteral<K>; name: typeof layerName } & LayerTable[K]['props']>;

function branch<K extends LayerType>(type: K): Branch<K> {
  const { description, props } = LAYER_OPTIONS[type];
  return Type.Object(
    { type: Type.Literal(type), ...props, name: layerName },
    { ...strict, description },
  ) as unknown as Branch<K>;
}

const layerBranches = [
  branch('dense'),
  branch('conv2d'),
  branch('depthwiseConv2d'),
  branch('maxPooling2d'),
  branch('averagePooling2d'),
  branch('globalAveragePooling2d'),
  branch('zeroPadding2d'),
  branch('flatten'),
  branch('dropout'),
  branch('batchNormalization'),
  branch('layerNormalization'),
  branch('activation'),
  branch('reshape'),
  branch('embedding'),
  branch('lstm'),
  branch('gru'),
  branch('add'),
  branch('concatenate'),
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
  oneOf: LayerSpecUnion.anyOf,
  description: 'One layer; `type` selects it.',
});

/** Most layers a built model may declare (tfjs builds and walks a model recursively: deeper ones overflow the stack). */
export const MAX_MODEL_LAYERS = 1000;

const NodeName = Type.String({
  pattern: '^[A-Za-z][A-Za-z0-9_]*$',
  description: 'Node name, unique in the graph; it is also the layer name (freeze, checkpoints).',
});
const nodeExtras = {
  name: NodeName,
  inputs: Type.Array(Type.String({ minLength: 1 }), {
    minItems: 1,
    description: "Names of the nodes (or the graph's input) this node takes, in order.",
  }),
};

const nodeBranches = layerBranches.map((b) =>
  Type.Object(
    { ...b.properties, ...nodeExtras },
    { ...strict, description: `${b.description ?? ''} Graph node: \`name\` and \`inputs\` required.` },
  ),
);

/** One node of a graph model: a layer with a required `name` and the `inputs` it is applied to. */
export type GraphNodeSpec = LayerSpec & { readonly name: string; readonly inputs: readonly string[] };

/** JSON schema of one graph node. */
export const GraphNodeSchema = Type.Unsafe<GraphNodeSpec>({
  type: 'object',
  required: ['type', 'name', 'inputs'],
  discriminator: { propertyName: 'type' },
  oneOf: nodeBranches,
  description: 'One node: a layer (`type` selects it), its `name` and its `inputs`.',
});

/** A graph of named nodes: residual and branching networks. */
export const GraphSchema = Type.Object(
  {
    input: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z][A-Za-z0-9_]*$',
        default: 'input',
        description: 'Name nodes use to refer to the model\'s input (the preprocessed sample; default "input").',
      }),
    ),
    nodes: Type.Array(GraphNodeSchema, {
      minItems: 1,
      maxItems: MAX_MODEL_LAYERS,
      description: "The nodes, in any order (a node's inputs may be declared before or after it); cycles are refused.",
    }),
    output: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'The node whose output feeds the classifier head (default: the last node). It must be a flat vector [features] — end with globalAveragePooling2d or flatten.',
      }),
    ),
  },
  { ...strict, description: 'A graph model: named nodes with their inputs.' },
);

/** A graph model as declared. */
export type GraphSpec = Static<typeof GraphSchema>;
