import {
  sampleLength,
  type Batch,
  type JsonValue,
  type Rng,
  type SerializedState,
  type StateArray,
} from '@engram/core';
import { arraysToBatch, batchToArrays } from '../common/batch-state.js';
import { metaObject, metaNumber } from '../common/tensor-state.js';

/**
 * How a full {@link ReplayBuffer} decides what to keep:
 * - `reservoir`: every sample seen so far is kept with probability capacity/seen (Vitter 1985).
 * - `class-balanced`: class-balancing reservoir (CBRS, Chrysakis & Moens 2020): a new sample of a class
 *   that is not among the largest in memory evicts a random sample of a largest class; otherwise it
 *   replaces a random sample of its own class with probability (stored of its class)/(seen of its class).
 * - `greedy`: GDumb's greedy balancer (Prabhu et al. 2020): a sample is added while its class holds
 *   fewer than the largest class, evicting a random sample of a largest class; otherwise it is skipped.
 */
export type BufferPolicy = 'reservoir' | 'class-balanced' | 'greedy';

/**
 * A bounded memory of samples in host arrays, filled one row at a time by a policy. Rows carry the
 * experience they came from and any batch extras (e.g. DER++ logits). All randomness comes from the
 * generator given to the constructor, and `state()`/`restore()` round-trip it exactly.
 */
export class ReplayBuffer {
  private rows: Batch[] = [];
  private expOf: number[] = [];
  private seenTotal = 0;
  private readonly seenByClass = new Map<number, number>();

  constructor(
    readonly capacity: number,
    readonly policy: BufferPolicy,
    private readonly rng: Rng,
  ) {
    if (!(capacity >= 1)) throw new Error(`replay buffer size must be at least 1, got ${capacity}`);
  }

  /** Samples held. */
  get size(): number {
    return this.rows.length;
  }

  /** Samples offered so far. */
  get seen(): number {
    return this.seenTotal;
  }

  /** Number of stored samples per class. */
  classCounts(): Map<number, number> {
    const counts = new Map<number, number>();
    for (const r of this.rows) counts.set(r.y[0] as number, (counts.get(r.y[0] as number) ?? 0) + 1);
    return counts;
  }

  /** Offers every row of `batch` (tagged with `experience`) to the buffer. */
  add(batch: Batch, experience: number): void {
    const n = batch.y.length;
    for (let i = 0; i < n; i++) this.offer(batch, i, experience);
  }

  /** Forgets all samples and counters. */
  clear(): void {
    this.rows = [];
    this.expOf = [];
    this.seenTotal = 0;
    this.seenByClass.clear();
  }

  /** Indices of the rows from experiences accepted by `filter` (all rows when omitted). */
  eligible(filter?: (experience: number) => boolean): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.rows.length; i++) if (!filter || filter(this.expOf[i] as number)) out.push(i);
    return out;
  }

  /** Up to `n` distinct random rows (drawn with `rng`) among the eligible ones, as one batch. */
  sample(n: number, rng: Rng, filter?: (experience: number) => boolean): Batch | undefined {
    const pool = this.eligible(filter);
    if (pool.length === 0 || n <= 0) return undefined;
    const k = Math.min(n, pool.length);
    for (let i = 0; i < k; i++) {
      const j = i + rng.int(pool.length - i);
      const t = pool[i] as number;
      pool[i] = pool[j] as number;
      pool[j] = t;
    }
    return joinRows(pool.slice(0, k).map((i) => this.rows[i] as Batch));
  }

  /** The whole memory as one batch, in storage order. */
  all(): Batch | undefined {
    return this.rows.length > 0 ? joinRows(this.rows) : undefined;
  }

  /** Offers row `i` of `batch`; the row is copied only when it is kept. */
  private offer(batch: Batch, i: number, experience: number): void {
    const c = batch.y[i] as number;
    this.seenTotal++;
    const seenC = (this.seenByClass.get(c) ?? 0) + 1;
    this.seenByClass.set(c, seenC);
    if (this.rows.length < this.capacity) {
      this.rows.push(rowOf(batch, i));
      this.expOf.push(experience);
      return;
    }
    if (this.policy === 'reservoir') {
      const j = this.rng.int(this.seenTotal);
      if (j < this.capacity) this.put(j, rowOf(batch, i), experience);
      return;
    }
    const counts = this.classCounts();
    const largest = Math.max(...counts.values());
    const mine = counts.get(c) ?? 0;
    if (mine < largest) {
      const big = [...counts.entries()].filter(([, k]) => k === largest).map(([cls]) => cls);
      const victimClass = big[this.rng.int(big.length)] as number;
      this.put(this.randomRowOf(victimClass), rowOf(batch, i), experience);
    } else if (this.policy === 'class-balanced') {
      if (this.rng.next() * seenC < mine) this.put(this.randomRowOf(c), rowOf(batch, i), experience);
    }
  }

  private randomRowOf(cls: number): number {
    const idx: number[] = [];
    for (let i = 0; i < this.rows.length; i++) if ((this.rows[i] as Batch).y[0] === cls) idx.push(i);
    return idx[this.rng.int(idx.length)] as number;
  }

  private put(i: number, row: Batch, experience: number): void {
    this.rows[i] = row;
    this.expOf[i] = experience;
  }

  /** Everything needed to continue exactly: rows, tags, counters and the generator position. */
  state(): SerializedState {
    const arrays: Record<string, StateArray> = {};
    const rows: JsonValue = this.rows.length > 0 ? batchToArrays('rows', joinRows(this.rows), arrays) : null;
    arrays['experience'] = { dtype: 'int32', shape: [this.expOf.length], data: Int32Array.from(this.expOf) };
    return {
      meta: {
        rows,
        seen: this.seenTotal,
        seenByClass: [...this.seenByClass.entries()],
        rng: this.rng.state(),
        policy: this.policy,
      },
      arrays,
    };
  }

  /** Restores what `state()` returned. */
  restore(state: SerializedState): void {
    const meta = metaObject(state.meta, 'replay buffer');
    const all = meta['rows'] ? arraysToBatch('rows', meta['rows'] as JsonValue, state.arrays) : undefined;
    this.rows = all ? Array.from({ length: all.y.length }, (_, i) => rowOf(all, i)) : [];
    this.expOf = Array.from(state.arrays?.['experience']?.data ?? []);
    this.seenTotal = metaNumber(meta, 'seen', 'replay buffer');
    this.seenByClass.clear();
    for (const [c, k] of (meta['seenByClass'] as [number, number][] | undefined) ?? []) this.seenByClass.set(c, k);
    this.rng.restore(meta['rng'] as number[]);
  }
}

/** Row `i` of a batch as a one-sample batch (copies). */
function rowOf(batch: Batch, i: number): Batch {
  const len = sampleLength(batch.sampleShape);
  let extras: Record<string, { width: number; values: Float32Array }> | undefined;
  for (const [key, e] of Object.entries(batch.extras ?? {})) {
    extras ??= {};
    extras[key] = { width: e.width, values: e.values.slice(i * e.width, (i + 1) * e.width) };
  }
  const width = batch.targets ? batch.targets.length / batch.y.length : 0;
  const k = batch.targetValues ? batch.targetValues.length / batch.y.length : 0;
  return {
    x: batch.x.slice(i * len, (i + 1) * len),
    y: batch.y.slice(i, i + 1),
    sampleShape: batch.sampleShape,
    ...(batch.task ? { task: batch.task.slice(i, i + 1) } : {}),
    ...(batch.targets ? { targets: batch.targets.slice(i * width, (i + 1) * width) } : {}),
    ...(batch.targetValues ? { targetValues: batch.targetValues.slice(i * k, (i + 1) * k) } : {}),
    ...(extras ? { extras } : {}),
  };
}

/** Concatenates one-sample rows (targets and extras kept when every row has them; narrower extras zero-padded). */
function joinRows(rows: readonly Batch[]): Batch {
  const first = rows[0] as Batch;
  const len = sampleLength(first.sampleShape);
  const n = rows.length;
  const x = new Float32Array(n * len);
  const y = new Int32Array(n);
  const withTask = rows.every((r) => r.task);
  const task = withTask ? new Int32Array(n) : undefined;
  const tw = first.targets?.length ?? 0;
  const targets = tw > 0 && rows.every((r) => r.targets?.length === tw) ? new Float32Array(n * tw) : undefined;
  const vw = first.targetValues?.length ?? 0;
  const targetValues =
    vw > 0 && rows.every((r) => r.targetValues?.length === vw) ? new Float32Array(n * vw) : undefined;
  const keys = Object.keys(first.extras ?? {}).filter((k) => rows.every((r) => r.extras?.[k]));
  const extras: Record<string, { width: number; values: Float32Array }> = {};
  // Rows stored at different times may differ in width (logits before and after a head grew): each is
  // written at the start of its row, padded with zeros to the widest.
  for (const k of keys) {
    const width = Math.max(...rows.map((r) => r.extras?.[k]?.width ?? 0));
    extras[k] = { width, values: new Float32Array(n * width) };
  }
  rows.forEach((r, i) => {
    x.set(r.x, i * len);
    y[i] = r.y[0] as number;
    if (task && r.task) task[i] = r.task[0] as number;
    if (targets && r.targets) targets.set(r.targets, i * tw);
    if (targetValues && r.targetValues) targetValues.set(r.targetValues, i * vw);
    for (const k of keys) {
      const e = extras[k];
      const src = r.extras?.[k];
      if (e && src) e.values.set(src.values, i * e.width);
    }
  });
  return {
    x,
    y,
    sampleShape: first.sampleShape,
    ...(task ? { task } : {}),
    ...(targets ? { targets } : {}),
    ...(targetValues ? { targetValues } : {}),
    ...(keys.length > 0 ? { extras } : {}),
  };
}
