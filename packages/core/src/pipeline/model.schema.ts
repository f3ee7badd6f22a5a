import { Type, type Static } from '@sinclair/typebox';
import { GraphSchema, LayerSpecSchema, MAX_MODEL_LAYERS, type GraphSpec } from './layer.schema.js';

const strict = { additionalProperties: false } as const;

const HeadSchema = Type.Optional(
  Type.Object(
    {
      units: Type.Optional(
        Type.Integer({ minimum: 1, description: 'Output units; default: the number of classes of the stream.' }),
      ),
    },
    {
      ...strict,
      description:
        'The classifier head: a dense layer named "head" appended after the last layer (layers) or the output node (graph).',
    },
  ),
);

const BuildModelSchema = Type.Object(
  {
    layers: Type.Array(LayerSpecSchema, {
      maxItems: MAX_MODEL_LAYERS,
      description: `Hidden layers, input first (at most ${MAX_MODEL_LAYERS}). A dense head named "head" with \`head.units\` outputs is appended.`,
    }),
    head: HeadSchema,
  },
  { ...strict, description: 'Build a model from a stack of layers.' },
);

const GraphModelSchema = Type.Object(
  {
    graph: Type.Unsafe<GraphSpec | string>({
      if: { type: 'string' },
      then: Type.String({
        minLength: 1,
        description:
          'Path of a JSON file holding the graph (relative to the pipeline file), e.g. examples/models/reduced-resnet18.graph.json.',
      }),
      else: GraphSchema,
      description:
        'Named nodes with their inputs (residual and branching networks), or the path of a JSON file holding them. A dense head named "head" is appended after the output node.',
    }),
    head: HeadSchema,
  },
  { ...strict, description: 'Build a model from a graph of named nodes.' },
);

const LoadModelSchema = Type.Object(
  {
    load: Type.String({
      minLength: 1,
      description:
        "Path of a tfjs Layers `model.json` or an ONNX `.onnx` file (as `torch.onnx.export` writes it; relative to the pipeline file). Its output is the classifier's logits; image models take channels-last [H, W, C] samples (docs/onnx.md).",
    }),
  },
  { ...strict, description: 'Start from a trained model.' },
);

/** The `layers` form of the model section. */
export type LayersModelSpec = Static<typeof BuildModelSchema>;

/** The `graph` form of the model section (after loading, `graph` is always the object). */
export type GraphModelSpec = Static<typeof GraphModelSchema>;

/** The model section. */
export type ModelSpec = LayersModelSpec | GraphModelSpec | Static<typeof LoadModelSchema>;

/**
 * The model section: layers or a graph to build (a classifier head is appended) or a tfjs Layers model
 * to load. Nested if/then/else rather than a union, so that errors speak of the form the user chose.
 */
export const ModelSchema = Type.Unsafe<ModelSpec>({
  type: 'object',
  if: { required: ['load'] },
  then: LoadModelSchema,
  else: { if: { required: ['graph'] }, then: GraphModelSchema, else: BuildModelSchema },
});
