import type { Batch, JsonValue, StateArray } from '@engram/core';

/** Writes a host batch (x, y, task, targets, regression targets, extras) into checkpoint arrays under `prefix`; returns its JSON meta. */
export function batchToArrays(prefix: string, batch: Batch, arrays: Record<string, StateArray>): JsonValue {
  const n = batch.y.length;
  arrays[`${prefix}.x`] = { dtype: 'float32', shape: [n, ...batch.sampleShape], data: Float32Array.from(batch.x) };
  arrays[`${prefix}.y`] = { dtype: 'int32', shape: [n], data: Int32Array.from(batch.y) };
  if (batch.task) arrays[`${prefix}.task`] = { dtype: 'int32', shape: [n], data: Int32Array.from(batch.task) };
  if (batch.targets) {
    arrays[`${prefix}.targets`] = {
      dtype: 'float32',
      shape: [batch.targets.length],
      data: Float32Array.from(batch.targets),
    };
  }
  if (batch.targetValues) {
    arrays[`${prefix}.targetValues`] = {
      dtype: 'float32',
      shape: [batch.targetValues.length],
      data: Float32Array.from(batch.targetValues),
    };
  }
  const extras: string[] = [];
  for (const [key, e] of Object.entries(batch.extras ?? {})) {
    extras.push(key);
    arrays[`${prefix}.extras.${key}`] = { dtype: 'float32', shape: [n, e.width], data: Float32Array.from(e.values) };
  }
  return { sampleShape: [...batch.sampleShape], extras };
}

/** Reads back a batch written by {@link batchToArrays}. */
export function arraysToBatch(
  prefix: string,
  meta: JsonValue,
  arrays: Readonly<Record<string, StateArray>> | undefined,
): Batch {
  const m = meta as { sampleShape?: number[]; extras?: string[] } | null;
  const x = arrays?.[`${prefix}.x`];
  const y = arrays?.[`${prefix}.y`];
  if (!m || !Array.isArray(m.sampleShape) || !x || !y)
    throw new Error(`checkpointed state lacks the batch "${prefix}"`);
  const task = arrays?.[`${prefix}.task`];
  const targets = arrays?.[`${prefix}.targets`];
  const targetValues = arrays?.[`${prefix}.targetValues`];
  const extras: Record<string, { width: number; values: Float32Array }> = {};
  for (const key of m.extras ?? []) {
    const e = arrays?.[`${prefix}.extras.${key}`];
    if (e) extras[key] = { width: e.shape[1] ?? 0, values: Float32Array.from(e.data) };
  }
  return {
    x: Float32Array.from(x.data),
    y: Int32Array.from(y.data),
    sampleShape: m.sampleShape,
    ...(task ? { task: Int32Array.from(task.data) } : {}),
    ...(targets ? { targets: Float32Array.from(targets.data) } : {}),
    ...(targetValues ? { targetValues: Float32Array.from(targetValues.data) } : {}),
    ...(Object.keys(extras).length > 0 ? { extras } : {}),
  };
}

/** The rows `indices` of a host batch, in that order (copies; `task` kept when present). */
export function takeRows(batch: Batch, indices: readonly number[]): Batch {
  const len = batch.sampleShape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(indices.length * len);
  const y = new Int32Array(indices.length);
  const task = batch.task ? new Int32Array(indices.length) : undefined;
  indices.forEach((r, i) => {
    x.set(batch.x.subarray(r * len, (r + 1) * len), i * len);
    y[i] = batch.y[r] as number;
    if (task && batch.task) task[i] = batch.task[r] as number;
  });
  return { x, y, sampleShape: batch.sampleShape, ...(task ? { task } : {}) };
}
