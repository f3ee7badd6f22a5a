import * as tf from '@tensorflow/tfjs';
import {
  ArrayBatchSource,
  concatBatches,
  Type,
  type Batch,
  type BatchSource,
  type ComponentDescriptor,
  type ComponentServices,
  type ExperienceContext,
  type JsonValue,
  type LossContext,
  type PredictorContext,
  type SerializedState,
  type StateArray,
  type Static,
  type StepContext,
  type Strategy,
} from '@engram/core';
import { arraysToBatch, batchToArrays } from '../common/batch-state.js';
import { hostFeatures, l2Normalize, penultimateFeatures } from '../common/features.js';
import { FrozenTeacher } from '../common/frozen-teacher.js';
import { materialize } from '../common/materialize.js';
import { metaObject } from '../common/tensor-state.js';
import { classMeans, herding } from './herding.js';

/** Options of `icarl`. */
export const IcarlOptions = Type.Object(
  {
    bufferSize: Type.Integer({
      minimum: 1,
      default: 1000,
      description: 'Exemplars kept over all classes (K); each exemplar set holds K / (number of sets).',
    }),
  },
  { additionalProperties: false },
);

/** Key of the teacher logits in `Batch.extras`. */
export const ICARL_LOGITS = 'icarl.logits';

/** Score of a class that has no exemplars (never predicted by the NME classifier). */
const NO_MEAN = -1e9;

/** One exemplar set: the rows herded from one class of one experience, best first. */
interface ExemplarSet {
  readonly experience: number;
  readonly cls: number;
  rows: Batch;
}

/** A mean feature of exemplars and the class it stands for. */
export interface ClassMean {
  readonly cls: number;
  readonly mean: Float32Array;
}

/**
 * NME class scores: −‖φ(x) − μ‖² to the nearest mean of each output class (a class may have several
 * means: one per exemplar set), {@link NO_MEAN} for classes without one. `features` are `[n, d]`
 * L2-normalised. A new tensor `[n, k]`; call inside `tf.tidy`.
 */
export function nmeScores(features: tf.Tensor2D, means: readonly ClassMean[], k: number): tf.Tensor2D {
  const [n, d] = features.shape;
  const used = means.filter((m) => m.cls < k);
  if (used.length === 0) return tf.fill<tf.Rank.R2>([n, k], NO_MEAN);
  const matrix = new Float32Array(d * used.length);
  const bias = new Float32Array(used.length);
  used.forEach(({ mean }, c) => {
    for (let j = 0; j < d; j++) matrix[j * used.length + c] = 2 * (mean[j] as number);
    bias[c] = -mean.reduce((a, v) => a + v * v, 0);
  });
  const fsq = tf.sum(tf.square(features), 1, true);
  const perMean = tf.sub(
    tf.add(tf.matMul(features, tf.tensor2d(matrix, [d, used.length])), tf.tensor2d(bias, [1, used.length])),
    fsq,
  );
  const columns = Array.from({ length: k }, (_, c) => {
    const idx = used.flatMap((m, i) => (m.cls === c ? [i] : []));
    return idx.length === 0 ? tf.fill([n], NO_MEAN) : tf.max(tf.gather(perMean, tf.tensor1d(idx, 'int32'), 1), 1);
  });
  return tf.stack(columns, 1) as tf.Tensor2D;
}

/**
 * iCaRL (Rebuffi, Kolesnikov, Sperl & Lampert 2017, "iCaRL: Incremental Classifier and Representation
 * Learning", CVPR).
 *
 * - `beforeExperience` reads the experience's training data; `trainData` returns it together with every
 *   exemplar (the paper trains on new data ∪ exemplars).
 * - `transformBatch` attaches the logits of the model frozen at the end of the previous experience.
 * - `loss` is the paper's: sigmoid binary cross-entropy over the outputs of the classes seen so far, the
 *   targets one-hot for the label except on the old classes (seen before, absent from this experience),
 *   whose targets are the frozen model's sigmoid outputs (distillation). Mean over rows and those
 *   outputs. In a domain-incremental stream every class comes back, so nothing is distilled there.
 * - `afterExperience` herds an exemplar set for every class of the experience from its training data
 *   (features: the penultimate layer, L2-normalised) and shrinks the older sets, so the memory holds
 *   `bufferSize` samples split evenly over the sets. A set belongs to a class *and* an experience, so a
 *   class that comes back (domain-incremental streams) gets a second set, with its own mean.
 *   Then the teacher is frozen.
 * - `predictor` is the nearest-mean-of-exemplars classifier: the mean feature of each exemplar set
 *   (recomputed with the current weights, cached until the next step); a sample goes to the class of
 *   the nearest mean (with one set per class, as in class-IL, exactly the paper's rule). The evaluation
 *   stage uses it instead of the softmax head.
 *
 * State = the exemplar sets (in herding order), the classes seen and distilled, and the teacher.
 */
export class IcarlStrategy implements Strategy {
  readonly name = 'icarl';
  private readonly teacher = new FrozenTeacher();
  private sets: ExemplarSet[] = [];
  private seen = new Set<number>();
  /** Classes seen before the current experience (distilled from the teacher). */
  private distilled: number[] = [];
  private current: Batch | undefined;
  private means: ClassMean[] | undefined;

  constructor(
    private readonly options: Static<typeof IcarlOptions>,
    private readonly services: ComponentServices,
  ) {}

  async beforeExperience(ctx: ExperienceContext): Promise<void> {
    for (const c of ctx.experience.classes) this.seen.add(c);
    this.current = await materialize(ctx.experience.train, 'icarl', this.services.seed);
  }

  /** The experience's data and every exemplar. */
  trainData(): BatchSource | void {
    const parts = [...(this.current ? [this.current] : []), ...this.sets.map((s) => s.rows)];
    return parts.length > 0 ? new ArrayBatchSource(concatBatches(parts)) : undefined;
  }

  transformBatch(batch: Batch, ctx: StepContext): Batch {
    if (!this.teacher.frozen || this.distilled.length === 0) return batch;
    return { ...batch, extras: { ...(batch.extras ?? {}), [ICARL_LOGITS]: this.teacher.logits(ctx.model, batch) } };
  }

  loss(ctx: LossContext): tf.Scalar {
    const classes = [...new Set([...this.seen, ...ctx.batch.y])]
      .filter((c) => c < ctx.logits.shape[1])
      .sort((a, b) => a - b);
    const n = ctx.batch.y.length;
    const k = classes.length;
    const column = new Map(classes.map((c, j) => [c, j]));
    const oneHot = new Float32Array(n * k);
    ctx.batch.y.forEach((c, i) => {
      oneHot[i * k + (column.get(c) as number)] = 1;
    });
    const old = new Float32Array(k);
    const stored = ctx.batch.extras?.[ICARL_LOGITS];
    const now = new Set(ctx.experience.classes);
    if (stored)
      for (const c of this.distilled)
        if (!now.has(c) && column.has(c) && c < stored.width && c < this.teacher.width)
          old[column.get(c) as number] = 1;
    const idx = tf.tensor1d(Int32Array.from(classes), 'int32');
    const logits = tf.gather(ctx.logits, idx, 1);
    let targets: tf.Tensor = tf.tensor2d(oneHot, [n, k]);
    if (stored) {
      const soft = tf.sigmoid(tf.gather(tf.tensor2d(stored.values, [n, stored.width]), idx, 1));
      const mask = tf.tensor2d(old, [1, k]);
      targets = tf.add(tf.mul(targets, tf.sub(1, mask)), tf.mul(soft, mask));
    }
    // Binary cross-entropy with logits, stable form: max(z, 0) − z·t + log(1 + e^−|z|).
    const bce = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, targets)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
    return tf.mean<tf.Scalar>(bce);
  }

  afterBatch(): void {
    this.means = undefined;
  }

  afterExperience(ctx: ExperienceContext): void {
    const data = this.current;
    const fresh = data ? [...new Set(data.y)].sort((a, b) => a - b) : [];
    const per = Math.max(1, Math.floor(this.options.bufferSize / Math.max(1, this.sets.length + fresh.length)));
    for (const s of this.sets)
      s.rows = takeRows(
        s.rows,
        Array.from({ length: Math.min(per, s.rows.y.length) }, (_, i) => i),
      );
    if (data) {
      for (const c of fresh) {
        const rows = [...data.y.keys()].filter((i) => data.y[i] === c);
        const group = takeRows(data, rows);
        const { values, dim } = hostFeatures(ctx.model, group.x, rows.length, group.sampleShape);
        this.sets.push({
          experience: ctx.experience.index,
          cls: c,
          rows: takeRows(group, herding(values, rows.length, dim, per)),
        });
      }
    }
    this.current = undefined;
    this.means = undefined;
    this.teacher.freeze(ctx.model);
    this.distilled = [...this.seen].sort((a, b) => a - b);
  }

  /** The nearest-mean-of-exemplars classifier (undefined before any exemplar is stored). */
  predictor(ctx: PredictorContext): ((x: tf.Tensor) => tf.Tensor) | undefined {
    if (this.sets.length === 0) return undefined;
    if (!this.means) {
      this.means = this.sets.map((s) => {
        const { values, dim } = hostFeatures(ctx.model, s.rows.x, s.rows.y.length, s.rows.sampleShape);
        return { cls: s.cls, mean: classMeans(values, s.rows.y, dim).get(s.cls) as Float32Array };
      });
    }
    const means = this.means;
    const k = ctx.model.outputs();
    return (x) => nmeScores(l2Normalize(penultimateFeatures(ctx.model, x)), means, k);
  }

  /** How many exemplars each class holds (for tests and reports). */
  exemplarCounts(): Map<number, number> {
    const out = new Map<number, number>();
    for (const s of this.sets) out.set(s.cls, (out.get(s.cls) ?? 0) + s.rows.y.length);
    return out;
  }

  state(): SerializedState {
    const arrays: Record<string, StateArray> = {};
    this.teacher.toArrays('teacher', arrays);
    const sets = this.sets.map((s, i) => ({
      experience: s.experience,
      cls: s.cls,
      batch: batchToArrays(`set${i}`, s.rows, arrays),
    }));
    return {
      meta: { seen: [...this.seen], distilled: this.distilled, teacherWidth: this.teacher.width, sets },
      arrays,
    };
  }

  restore(state: SerializedState): void {
    const meta = metaObject(state.meta, 'icarl');
    this.teacher.fromArrays('teacher', state.arrays, (meta['teacherWidth'] as number | undefined) ?? 0);
    this.seen = new Set((meta['seen'] as number[] | undefined) ?? []);
    this.distilled = [...((meta['distilled'] as number[] | undefined) ?? [])];
    const sets = (meta['sets'] as Array<{ experience: number; cls: number; batch: JsonValue }> | undefined) ?? [];
    this.sets = sets.map((s, i) => ({
      experience: s.experience,
      cls: s.cls,
      rows: arraysToBatch(`set${i}`, s.batch, state.arrays),
    }));
    this.means = undefined;
  }

  dispose(): void {
    this.teacher.dispose();
  }
}

/** The rows `indices` of a host batch, in that order. */
function takeRows(batch: Batch, indices: readonly number[]): Batch {
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

/** Registration of `icarl`. */
export const icarlDescriptors: ComponentDescriptor[] = [
  {
    role: 'strategy',
    kind: 'icarl',
    classesOnly: 'it classifies by nearest class mean',
    description:
      'iCaRL (Rebuffi et al. 2017): herded exemplars, sigmoid distillation loss, nearest-mean-of-exemplars classifier at evaluation.',
    options: IcarlOptions,
    create: (o, services) => new IcarlStrategy(o as Static<typeof IcarlOptions>, services),
  },
];
