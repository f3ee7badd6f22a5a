import { Type, type Static, type TLiteral, type TObject, type TProperties } from '@sinclair/typebox';
import { LAYER_OPTIONS, strict } from './layer-options.js';

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
