/**
 * A batch of labelled samples as plain typed arrays.
 *
 * Batches travel through the pipeline as host memory, never as tensors, so nothing has to be disposed
 * between stages and a batch can be buffered, replayed or checkpointed as-is. The training stage turns a
 * batch into tensors inside `tf.tidy` right before the forward pass.
 */
export interface Batch {
  /** Features of all samples, row-major: `size * prod(sampleShape)` values. */
  readonly x: Float32Array;
  /** Shape of one sample, e.g. `[28, 28, 1]` or `[784]`. */
  readonly sampleShape: readonly number[];
  /** Class index of every sample (`size` values). */
  readonly y: Int32Array;
  /**
   * Soft targets (`size * numClasses` values, rows summing to 1), e.g. from a one-hot / label-smoothing
   * step. When present the default loss uses them instead of `y`; `y` stays the argmax for accuracy.
   */
  readonly targets?: Float32Array;
  /**
   * Regression targets (`size * k` values, k targets per sample) of a `task: "regression"` stream; `y`
   * is then all zeros. The default loss is the regression loss of the model's k outputs against them.
   */
  readonly targetValues?: Float32Array;
  /** Task label of every sample, present in task-incremental scenarios. */
  readonly task?: Int32Array;
  /**
   * Extra per-sample values a strategy attaches (e.g. DER++ stores logits of replayed samples).
   * Keys are namespaced by the strategy (`derpp.logits`); each value holds `size * width` numbers.
   */
  readonly extras?: Readonly<Record<string, { readonly width: number; readonly values: Float32Array }>>;
}

/** Number of samples in a batch. */
export function batchSize(batch: Batch): number {
  return batch.y.length;
}

/** Number of feature values per sample. */
export function sampleLength(sampleShape: readonly number[]): number {
  return sampleShape.reduce((a, b) => a * b, 1);
}

/**
 * Rows `indices` of `batch` as a new batch (copies). Extras are carried along.
 */
export function selectRows(batch: Batch, indices: ArrayLike<number>): Batch {
  const len = sampleLength(batch.sampleShape);
  const n = indices.length;
  const x = new Float32Array(n * len);
  const y = new Int32Array(n);
  const task = batch.task ? new Int32Array(n) : undefined;
  const k = batch.targetValues ? batch.targetValues.length / Math.max(1, batch.y.length) : 0;
  const targetValues = batch.targetValues ? new Float32Array(n * k) : undefined;
  for (let i = 0; i < n; i++) {
    const r = indices[i] as number;
    x.set(batch.x.subarray(r * len, (r + 1) * len), i * len);
    y[i] = batch.y[r] as number;
    if (task && batch.task) task[i] = batch.task[r] as number;
    if (targetValues && batch.targetValues) targetValues.set(batch.targetValues.subarray(r * k, (r + 1) * k), i * k);
  }
  let extras: Record<string, { width: number; values: Float32Array }> | undefined;
  if (batch.extras) {
    extras = {};
    for (const [key, e] of Object.entries(batch.extras)) {
      const values = new Float32Array(n * e.width);
      for (let i = 0; i < n; i++) {
        const r = indices[i] as number;
        values.set(e.values.subarray(r * e.width, (r + 1) * e.width), i * e.width);
      }
      extras[key] = { width: e.width, values };
    }
  }
  return {
    x,
    y,
    sampleShape: batch.sampleShape,
    ...(targetValues ? { targetValues } : {}),
    ...(task ? { task } : {}),
    ...(extras ? { extras } : {}),
  };
}

/**
 * Concatenates batches with the same sample shape. Task labels, regression targets and extras are kept
 * only when every batch has them.
 */
export function concatBatches(batches: readonly Batch[]): Batch {
  const first = batches[0];
  if (!first) throw new Error('concatBatches needs at least one batch');
  const len = sampleLength(first.sampleShape);
  const n = batches.reduce((s, b) => s + b.y.length, 0);
  const x = new Float32Array(n * len);
  const y = new Int32Array(n);
  const withTask = batches.every((b) => b.task !== undefined);
  const task = withTask ? new Int32Array(n) : undefined;
  const k = first.targetValues ? first.targetValues.length / Math.max(1, first.y.length) : 0;
  const withValues = k > 0 && batches.every((b) => b.targetValues?.length === b.y.length * k);
  const targetValues = withValues ? new Float32Array(n * k) : undefined;
  let o = 0;
  for (const b of batches) {
    if (sampleLength(b.sampleShape) !== len) throw new Error('concatBatches: sample shapes differ');
    x.set(b.x, o * len);
    y.set(b.y, o);
    if (task && b.task) task.set(b.task, o);
    if (targetValues && b.targetValues) targetValues.set(b.targetValues, o * k);
    o += b.y.length;
  }
  const keys = Object.keys(first.extras ?? {}).filter((k) => batches.every((b) => b.extras?.[k] !== undefined));
  let extras: Record<string, { width: number; values: Float32Array }> | undefined;
  if (keys.length > 0) {
    extras = {};
    for (const k of keys) {
      const width = first.extras?.[k]?.width ?? 0;
      const values = new Float32Array(n * width);
      let off = 0;
      for (const b of batches) {
        const e = b.extras?.[k];
        if (e) values.set(e.values, off * width);
        off += b.y.length;
      }
      extras[k] = { width, values };
    }
  }
  return {
    x,
    y,
    sampleShape: first.sampleShape,
    ...(targetValues ? { targetValues } : {}),
    ...(task ? { task } : {}),
    ...(extras ? { extras } : {}),
  };
}
