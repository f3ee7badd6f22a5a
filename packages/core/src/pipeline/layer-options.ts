import { Type, type TProperties } from '@sinclair/typebox';
import { StringEnum } from './string-enum.js';

/**
 * The options of every layer type a pipeline can declare (`model.layers[]` and graph nodes), as TypeBox
 * schemas with a description each: read by {@link LayerSpecUnion} (layer.schema.ts) to build one branch a
 * type. Adding a layer type starts here, then `layer-factory.ts` builds it.
 */
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
/** Schema option for a layer object: keys outside its type's options are errors. */
export const strict = { additionalProperties: false } as const;
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
export const LAYER_OPTIONS = {
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
      'Gated recurrent unit over [steps, features] inputs (tf.layers.gru: the reset gate is applied before the recurrent kernel; resetAfter: true gives PyTorch’s nn.GRU formulation).',
    props: {
      units: Type.Integer({ minimum: 1, description: 'Size of the hidden state.' }),
      activation: Type.Optional(Activation),
      recurrentActivation: Type.Optional(RecurrentActivation),
      returnSequences: ReturnSequences,
      useBias: UseBias,
      resetAfter: Type.Optional(
        Type.Boolean({
          description:
            "Apply the reset gate after the recurrent matmul, with separate input and recurrent biases (PyTorch's nn.GRU, Keras' reset_after=True, ONNX linear_before_reset=1; Engram's EngramGRU layer). Default false (tfjs-layers' GRU). An imported PyTorch GRU uses this form.",
        }),
      ),
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
