/** Largest finite float32 value: inputs beyond ±this overflow to Infinity in the model's Float32Array. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/** JSON Schema of one input value: a JSON number that is finite in float32 (`1e39` is refused: it overflows). */
export const FLOAT32_SCHEMA: Record<string, unknown> = { type: 'number', minimum: -FLOAT32_MAX, maximum: FLOAT32_MAX };

/** JSON Schema of a POST /predict body (`maxInstances` per request; `task`: one label for all instances or one each). */
export function predictBodySchema(maxInstances: number): Record<string, unknown> {
  return {
    type: 'object',
    required: ['instances'],
    additionalProperties: false,
    properties: {
      instances: {
        type: 'array',
        minItems: 1,
        maxItems: maxInstances,
        items: { type: 'array', minItems: 1, items: FLOAT32_SCHEMA },
      },
      task: {
        anyOf: [
          { type: 'integer', minimum: 0 },
          { type: 'array', minItems: 1, maxItems: maxInstances, items: { type: 'integer', minimum: 0 } },
        ],
      },
    },
  };
}

/**
 * JSON Schema of a POST /feedback body: the prediction's id and its true label (index or class name),
 * or for a regression run its true `target` (a number, or an array of numbers).
 */
export const FEEDBACK_BODY_SCHEMA: Record<string, unknown> = {
  type: 'object',
  required: ['id'],
  // a class label, or a regression target: a body with neither is refused at /y like before
  anyOf: [{ required: ['y'] }, { required: ['target'] }],
  additionalProperties: false,
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 100 },
    y: {
      anyOf: [
        { type: 'integer', minimum: 0 },
        { type: 'string', minLength: 1 },
      ],
    },
    target: {
      anyOf: [FLOAT32_SCHEMA, { type: 'array', minItems: 1, maxItems: 1024, items: FLOAT32_SCHEMA }],
    },
  },
};

/** A body of POST /predict after validation. */
export interface PredictBody {
  readonly instances: number[][];
  /** Task label of the instances (one for all, or one each); needed by task-incremental multi-head models. */
  readonly task?: number | number[];
}

/** A body of POST /feedback after validation. */
export interface FeedbackBody {
  readonly id: string;
  /** The true class (index or name) of a classification prediction. */
  readonly y?: number | string;
  /** The true value(s) of a regression prediction. */
  readonly target?: number | number[];
}
