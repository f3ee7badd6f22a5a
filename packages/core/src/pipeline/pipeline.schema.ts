import { Type, type TObject, type TSchema } from '@sinclair/typebox';
import type { ComponentRegistry } from '../plugin/component-registry.js';
import type { ComponentRole } from '../plugin-api/component-descriptor.js';
import { ModelSchema } from './model.schema.js';
import { StringEnum } from './string-enum.js';
import {
  BOTH_BUDGETS,
  CheckpointSchema,
  EvaluationSchema,
  OutputSchema,
  strict,
  TrainingSchema,
} from './run-settings.schema.js';
import { OptimizerSchema } from './optimizer.schema.js';
import { editorFriendly } from './editor-friendly.js';
import { ServeSchema } from './serve.schema.js';

const BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;

/**
 * The whole pipeline schema, given the JSON schema of each role's component union. With no registry
 * (phase 1) components are open objects with a string `kind`.
 */
function pipelineSchema(component: (role: ComponentRole) => TSchema): TObject {
  return Type.Object(
    {
      $schema: Type.Optional(Type.String({ description: 'Path or URL of this JSON Schema, for editors.' })),
      name: Type.String({
        pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
        description: 'Run name (also the default output folder).',
      }),
      description: Type.Optional(Type.String({ description: 'Free text about the run (shown in the report).' })),
      continueFrom: Type.Optional(
        Type.String({
          minLength: 1,
          description:
            "Start this new run from an earlier run's newest valid checkpoint (its run folder or a checkpoint " +
            'folder, relative to this file): model, optimizer, strategy and transform state, RNGs and metric ' +
            'history; experiences continue its numbering. `engram run --from` wins.',
        }),
      ),
      task: Type.Optional(
        StringEnum(['classification', 'regression'] as const, {
          description:
            'What the model predicts: a class per sample (classification, the default) or real-valued targets ' +
            '(regression: the model has one output per target, training.loss is mse/mae/huber, evaluation reports ' +
            'MAE and RMSE instead of accuracy, and class-only strategies are refused).',
        }),
      ),
      seed: Type.Integer({
        minimum: 0,
        maximum: 4294967295,
        default: 0,
        description: 'Every source of randomness derives from it.',
      }),
      backend: StringEnum(BACKENDS, {
        default: 'auto',
        description: 'tfjs backend; auto = tensorflow, then wasm, then cpu.',
      }),
      plugins: Type.Array(Type.String({ minLength: 1 }), {
        default: [],
        description:
          'Plugin modules: installed npm package names; files under this folder only with --allow-local-plugins ' +
          '(README, "Plugins and trust").',
      }),
      data: describe(
        component('dataset'),
        'Where the samples come from and how they are cut into experiences; `kind` selects the source.',
      ),
      preprocess: Type.Array(component('transform'), {
        default: [],
        description: 'Transforms applied to every batch, in order (normalize, augment, reshape …).',
      }),
      model: describe(
        ModelSchema,
        'The network: `layers` to build (a classifier head is appended) or a tfjs Layers model to `load`.',
      ),
      adjust: Type.Array(component('adjust'), {
        default: [],
        description: 'Model adjustments applied at each experience start.',
      }),
      optimizer: Type.Unsafe({
        ...discriminated('type', OptimizerSchema.anyOf),
        default: { type: 'adam' },
        description: 'The optimizer, after tf.train.*; `type` selects it (default adam).',
      }),
      strategy: Type.Unsafe({
        description: 'One strategy or a list applied in order.',
        if: { type: 'array' },
        then: Type.Array(component('strategy'), { minItems: 1 }),
        else: component('strategy'),
      }),
      boundary: Type.Optional(
        describe(component('detector'), 'Stream mode: the drift detector that marks experience boundaries.'),
      ),
      loggers: Type.Array(component('logger'), {
        default: [],
        description: 'Extra event sinks (files, services) besides metrics.jsonl.',
      }),
      stages: Type.Array(component('stage'), {
        default: [],
        description: 'Extra stages of the run, from plugins; each placed after (or before) a named stage.',
      }),
      training: Type.Object(TrainingSchema.properties, {
        ...strict,
        not: BOTH_BUDGETS,
        default: {},
        description: 'Training loop: epochs or iterations, batch size, shuffling, sample budget.',
      }),
      evaluation: Type.Object(EvaluationSchema.properties, {
        ...strict,
        default: {},
        description: 'When and on what the model is tested (accuracy matrix, prequential accuracy).',
      }),
      checkpoint: Type.Object(CheckpointSchema.properties, {
        ...strict,
        default: {},
        description: 'Checkpoint schedule (for --resume, export and eval).',
      }),
      output: Type.Object(OutputSchema.properties, { ...strict, default: {}, description: 'Where outputs go.' }),
      serve: Type.Optional(
        Type.Object(ServeSchema.properties, {
          ...strict,
          description: 'Serve the live model over HTTP while it trains (engram run; --serve wins over host and port).',
        }),
      ),
    },
    { ...strict, $id: 'https://engram.dev/schemas/pipeline.schema.json', title: 'Engram pipeline' },
  );
}

/** `schema` with a description (for editors' hover and completion). */
function describe(schema: TSchema, description: string): TSchema {
  return Type.Unsafe({ ...schema, description });
}

/** A `oneOf` whose branch is chosen by `propertyName` (ajv's `discriminator` keyword). */
export function discriminated(propertyName: string, branches: readonly TSchema[]): Record<string, unknown> {
  return { type: 'object', required: [propertyName], discriminator: { propertyName }, oneOf: branches };
}

/** Phase 1: the envelope, read before any plugin is loaded — only `plugins` must already be right. */
export const EnvelopeSchema = Type.Object(
  { plugins: Type.Optional(Type.Array(Type.String({ minLength: 1 }))) },
  { additionalProperties: true },
);

/** Keywords of a component's option schema that relate its fields to each other (kept when composing). */
const CROSS_FIELD_KEYWORDS = [
  'if',
  'then',
  'else',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  'dependentRequired',
  'dependentSchemas',
] as const;

/** The cross-field rules of an option schema (e.g. "drift needs endless"), to carry into its branch. */
function crossFieldRules(options: TObject | undefined): Record<string, unknown> {
  const source = (options ?? {}) as Record<string, unknown>;
  return Object.fromEntries(CROSS_FIELD_KEYWORDS.filter((k) => source[k] !== undefined).map((k) => [k, source[k]]));
}

/** Where a plugin stage sits in the run (`stages[]`): options every stage has besides its own. */
export const STAGE_POSITION = {
  after: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        "Run right after this stage: preprocess, adjust, train, evaluate, checkpoint, or an earlier plugin stage's " +
        'kind. Default: before checkpoint.',
    }),
  ),
  before: Type.Optional(Type.String({ minLength: 1, description: 'Run right before this stage (instead of after).' })),
};

/**
 * One role's components as a union discriminated by `kind`; {@link editorFriendly} adds the list of
 * every kind (with descriptions) that editors complete from.
 */
function componentUnion(role: ComponentRole, branches: readonly TSchema[]): TSchema {
  return Type.Unsafe({
    ...discriminated('kind', branches),
    properties: { kind: { type: 'string', description: `Which ${role} component; the other keys are its options.` } },
  });
}

/** Phase 2: the full schema, with every role's components as a discriminated union of their option schemas. */
export function composePipelineSchema(registry: ComponentRegistry): TObject {
  return editorFriendly(
    pipelineSchema((role) => {
      const kinds = registry.kinds(role);
      const descriptions = kinds.map((kind) => registry.get(role, kind)?.description ?? `${role} "${kind}"`);
      const branches = kinds.map((kind, i) => {
        const d = registry.get(role, kind);
        const options = d?.options.properties ?? {};
        const description = descriptions[i] ?? kind;
        return Type.Object(
          { kind: Type.Literal(kind, { description }), ...(role === 'stage' ? STAGE_POSITION : {}), ...options },
          { additionalProperties: false, title: `${role}:${kind}`, description, ...crossFieldRules(d?.options) },
        );
      });
      if (branches.length === 0) {
        return Type.Unsafe({ not: {}, description: `No ${role} is registered; add a plugin that provides one.` });
      }
      return componentUnion(role, branches);
    }),
  );
}
