import { Type, type TSchema } from '@sinclair/typebox';
import { compileSchema } from '../pipeline/schema-validator.js';
import { formatProblem } from '../plugin-api/pipeline-error.js';
import { CorruptCheckpointError } from './checkpoint.store.js';
import { CHECKPOINT_REASONS } from '../plugin-api/checkpointable.js';
import type { RunJsonV1 } from './checkpoint-v1.js';
import type { RunJson } from './run-json.js';

const Count = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const Finite = Type.Number({ minimum: -Number.MAX_VALUE, maximum: Number.MAX_VALUE });
const Seconds = Type.Number({ minimum: 0, maximum: Number.MAX_VALUE });
const Mark = Type.Object({
  bytes: Count,
  seq: Type.Integer({ minimum: -1, maximum: Number.MAX_SAFE_INTEGER }),
  sha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
});
const RngState = Type.Array(Type.Integer(), { minItems: 1, maxItems: 1024 });
const Cursor = Type.Object({
  experience: Type.Integer({ minimum: -1, maximum: Number.MAX_SAFE_INTEGER }),
  epoch: Count,
  batch: Count,
  step: Count,
  samples: Count,
  replayed: Type.Optional(Count),
  experienceDone: Type.Optional(Type.Boolean()),
});
const Progress = Type.Object({
  experienceSamples: Count,
  epochLossSum: Finite,
  epochCorrect: Count,
  epochSeen: Count,
  epochAbsoluteError: Type.Optional(Finite),
  epochTargets: Type.Optional(Count),
});

/** A format-2 checkpoint's `run.json`: why it was written, its metric-history mark, wall time and the pipeline. */
export const RunJsonSchema = Type.Object({
  reason: Type.Union(CHECKPOINT_REASONS.map((r) => Type.Literal(r))),
  metrics: Type.Optional(Mark),
  wallSeconds: Type.Optional(Seconds),
  pipeline: Type.Object({}),
  overrides: Type.Optional(
    Type.Array(Type.Object({ pointer: Type.String({ maxLength: 4096 }), value: Type.Unknown(), text: Type.String() }), {
      maxItems: 10_000,
    }),
  ),
});

/** A format-1 checkpoint's `run.json`: cursor, running totals, RNG states, mark and the pipeline. */
export const RunJsonV1Schema = Type.Object({
  cursor: Cursor,
  progress: Type.Optional(Progress),
  seenClasses: Type.Array(Count, { maxItems: 1_000_000 }),
  rng: Type.Object({ run: RngState, dropout: RngState }),
  source: Type.Unknown(),
  trainSeconds: Seconds,
  reason: Type.Optional(Type.String({ maxLength: 64 })),
  metrics: Type.Optional(Mark),
  pipeline: Type.Object({}),
});

/** The `/run/cursor` state of a checkpoint: the run's position, totals and seen classes. */
export const CursorStateSchema = Type.Object({
  cursor: Cursor,
  progress: Type.Optional(Progress),
  seenClasses: Type.Array(Count, { maxItems: 1_000_000 }),
  trainSeconds: Seconds,
});

const validators = new Map<TSchema, (value: unknown) => ReturnType<ReturnType<typeof compileSchema>>>();

function check(schema: TSchema, value: unknown, what: string, dir: string): void {
  let validate = validators.get(schema);
  if (!validate) {
    validate = compileSchema(schema);
    validators.set(schema, validate);
  }
  const problems = validate(value);
  if (problems.length > 0)
    throw new CorruptCheckpointError(`${dir}: ${what} ${problems.slice(0, 3).map(formatProblem).join('; ')}`);
}

function parse(text: string, dir: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new CorruptCheckpointError(`${dir}: run.json is not JSON (${(e as Error).message})`);
  }
}

/**
 * Parses and validates a format-2 checkpoint's `run.json` (called when resume decodes a checkpoint).
 * Anything malformed — bad JSON, a missing field, an unknown reason — is a
 * {@link CorruptCheckpointError} naming the field, so resume falls back to the previous checkpoint.
 */
export function parseRunJson(text: string, dir: string): RunJson {
  const value = parse(text, dir);
  check(RunJsonSchema, value, 'run.json', dir);
  return value as RunJson;
}

/** {@link parseRunJson} for format 1 (a cursor step of 1e18 or a malformed RNG state is refused). */
export function parseRunJsonV1(text: string, dir: string): RunJsonV1 {
  const value = parse(text, dir);
  check(RunJsonV1Schema, value, 'run.json', dir);
  return value as RunJsonV1;
}

/** Validates a checkpoint's `/run/cursor` state (present, counts within safe integers) before it is restored. */
export function checkCursorState(meta: unknown, dir: string): void {
  if (meta === undefined) throw new CorruptCheckpointError(`${dir}: it has no state for /run/cursor`);
  check(CursorStateSchema, meta, 'state /run/cursor', dir);
}
