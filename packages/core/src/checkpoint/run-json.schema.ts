import { Type } from '@sinclair/typebox';
import { compileSchema } from '../pipeline/schema-validator.js';
import { formatProblem } from '../pipeline/pipeline-error.js';
import { CorruptCheckpointError } from './checkpoint.store.js';
import type { RunJson } from './run-snapshot.js';

const Count = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const Finite = Type.Number({ minimum: -Number.MAX_VALUE, maximum: Number.MAX_VALUE });

/** A checkpoint's `run.json`: cursor, running totals, RNG states, metric-history mark and the pipeline. */
export const RunJsonSchema = Type.Object({
  cursor: Type.Object({ experience: Count, epoch: Count, batch: Count, step: Count, samples: Count, experienceDone: Type.Boolean() }),
  progress: Type.Optional(Type.Object({ experienceSamples: Count, epochLossSum: Finite, epochCorrect: Count, epochSeen: Count })),
  seenClasses: Type.Array(Count, { maxItems: 1_000_000 }),
  rng: Type.Object({ run: Type.Array(Type.Integer(), { minItems: 1, maxItems: 1024 }), dropout: Type.Array(Type.Integer(), { minItems: 1, maxItems: 1024 }) }),
  source: Type.Unknown(),
  trainSeconds: Type.Number({ minimum: 0, maximum: Number.MAX_VALUE }),
  reason: Type.Optional(Type.String({ maxLength: 64 })),
  metrics: Type.Optional(Type.Object({ bytes: Count, seq: Type.Integer({ minimum: -1, maximum: Number.MAX_SAFE_INTEGER }), sha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })) })),
  pipeline: Type.Object({}),
});

let validate: ((value: unknown) => ReturnType<ReturnType<typeof compileSchema>>) | undefined;

/**
 * Parses and validates a checkpoint's `run.json` (called by resume when it decodes a checkpoint).
 * Anything malformed — bad JSON, a missing field, a cursor step of 1e18 — is a
 * {@link CorruptCheckpointError} naming the field, so resume falls back to the previous checkpoint.
 */
export function parseRunJson(text: string, dir: string): RunJson {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (e) {
    throw new CorruptCheckpointError(`${dir}: run.json is not JSON (${(e as Error).message})`);
  }
  validate ??= compileSchema(RunJsonSchema);
  const problems = validate(value);
  if (problems.length > 0) throw new CorruptCheckpointError(`${dir}: run.json ${problems.slice(0, 3).map(formatProblem).join('; ')}`);
  return value as RunJson;
}
