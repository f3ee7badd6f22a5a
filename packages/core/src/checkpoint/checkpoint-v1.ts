import type { PipelineDefinition } from '../pipeline/pipeline-definition.js';
import { partsOf } from '../pipeline/pipeline-parts.js';
import type { JsonValue, SerializedState, StateArray } from '../plugin-api/serialized-state.js';
import type { CheckpointReason } from '../plugin-api/checkpointable.js';
import { CHECKPOINT_REASONS } from '../plugin-api/checkpointable.js';
import type { MetricsMark, RunJson } from './run-json.js';

/** `run.json` of format 1 (Engram before the checkpoint registry): the run's own parts lived here. */
export interface RunJsonV1 {
  readonly cursor: {
    experience: number;
    epoch: number;
    batch: number;
    step: number;
    samples: number;
    experienceDone?: boolean;
  };
  readonly progress?: JsonValue;
  readonly seenClasses: number[];
  readonly rng: { run: number[]; dropout: number[] };
  readonly source: unknown;
  readonly trainSeconds: number;
  readonly reason?: string;
  readonly metrics?: MetricsMark;
  readonly pipeline: PipelineDefinition;
}

/** JSON pointer of strategy `index` in `pipeline`, from its parts table (`/strategy` for a single one). */
function strategyPointer(pipeline: PipelineDefinition, index: number): string {
  return partsOf(pipeline, 'strategy')[index]?.pointer ?? `/strategy/${index}`;
}

/**
 * Format 1 → format 2: state keys become JSON pointers (`strategy:0:ewc` → `/strategy/0`,
 * `transform:1` → `/preprocess/1`, `adjust:0` → `/adjust/0`, `detector` → `/boundary`,
 * `prequential` → `/evaluation`, `optimizer` + `optimizer:extra` → `/optimizer`); run.json's source
 * position becomes `/data`, its RNG states `/run/rng` and `/run/dropout`, its cursor and totals
 * `/run/cursor`. Format 1 never set `experienceDone`: a checkpoint written for `experience` is one.
 */
export function upgradeV1(
  v1: RunJsonV1,
  old: Record<string, SerializedState>,
  pipeline: PipelineDefinition,
): { run: RunJson; states: Map<string, SerializedState> } {
  const states = new Map<string, SerializedState>();
  const reason = (CHECKPOINT_REASONS as readonly string[]).includes(v1.reason ?? '')
    ? (v1.reason as CheckpointReason)
    : 'batches';
  for (const [key, state] of Object.entries(old)) {
    const [kind, index] = key.split(':');
    if (kind === 'strategy') states.set(strategyPointer(pipeline, Number(index)), state);
    else if (kind === 'transform') states.set(`/preprocess/${index}`, state);
    else if (kind === 'adjust') states.set(`/adjust/${index}`, state);
    else if (key === 'detector') states.set('/boundary', state);
    else if (key === 'prequential') states.set('/evaluation', state);
  }
  const optimizer = old['optimizer'];
  if (optimizer) {
    const extra = old['optimizer:extra'];
    const arrays: Record<string, StateArray> = { ...(optimizer.arrays ?? {}) };
    for (const [i, a] of Object.entries(extra?.arrays ?? {})) arrays[`extra:${i}`] = a;
    const meta = (optimizer.meta ?? {}) as { [key: string]: JsonValue };
    states.set('/optimizer', { meta: { ...meta, extras: (extra?.meta ?? []) as JsonValue }, arrays });
  }
  if (v1.source !== null && v1.source !== undefined) states.set('/data', { meta: v1.source as JsonValue });
  states.set('/run/rng', { meta: v1.rng.run });
  states.set('/run/dropout', { meta: v1.rng.dropout });
  const cursor = { ...v1.cursor, experienceDone: reason === 'experience' };
  states.set('/run/cursor', {
    meta: {
      cursor,
      ...(v1.progress !== undefined ? { progress: v1.progress } : {}),
      seenClasses: v1.seenClasses,
      trainSeconds: v1.trainSeconds,
    },
  });
  return { run: { reason, ...(v1.metrics ? { metrics: v1.metrics } : {}), pipeline: v1.pipeline }, states };
}
