import * as tf from '@tensorflow/tfjs';
import {
  ArrayBatchSource,
  concatBatches,
  Rng,
  StringEnum,
  Type,
  type Batch,
  type BatchSource,
  type ComponentDescriptor,
  type ComponentServices,
  type EngramModel,
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
import { arraysToBatch, batchToArrays, takeRows } from '../common/batch-state.js';
import { hostFeatures, l2Normalize, penultimateFeatures } from '../common/features.js';
import { FrozenTeacher } from '../common/frozen-teacher.js';
import { materialize } from '../common/materialize.js';
import { metaObject } from '../common/tensor-state.js';
import { classMeans, herding } from './herding.js';
import { icarlLoss } from './icarl-loss.js';
import { nmeScores, type ClassMean } from './nearest-mean.js';

/** Options of `icarl`. The defaults are the paper's (Rebuffi et al. 2017). */
export const IcarlOptions = Type.Object(
  {
    bufferSize: Type.Integer({
      minimum: 1,
      default: 1000,
      description: 'Exemplars kept over all classes (K); each exemplar set holds K / (number of sets).',
    }),
    selection: StringEnum(['herding', 'random'] as const, {
      default: 'herding',
      description:
        "How an exemplar set is chosen from a class's data: 'herding' (the paper, Algorithm 4: each pick brings the picked mean feature closest to the class mean) or 'random' (a seeded random order).",
    }),
    normalize: Type.Boolean({
      default: true,
      description:
        'L2-normalise the penultimate features (and the class means) used by herding and the nearest-mean classifier, as the paper does.',
    }),
    classifier: StringEnum(['nme', 'output'] as const, {
      default: 'nme',
      description:
        "What predicts at evaluation: 'nme' (the paper: nearest mean of exemplars) or 'output' (the network's own outputs, arg-max of the logits).",
    }),
    classification: StringEnum(['bce', 'cross-entropy'] as const, {
      default: 'bce',
      description:
        "Training loss on the labels: 'bce' (the paper: sigmoid binary cross-entropy per output of the classes seen so far) or 'cross-entropy' (softmax cross-entropy over those outputs).",
    }),
    distillation: StringEnum(['sigmoid', 'softmax', 'none'] as const, {
      default: 'sigmoid',
      description:
        "Distillation of the classes of earlier experiences from the model frozen at the end of the previous one: 'sigmoid' (the paper: its sigmoid outputs are the binary targets of those outputs), 'softmax' (T²·KL of the tempered softmax over those outputs, as LwF) or 'none'.",
    }),
    temperature: Type.Number({
      exclusiveMinimum: 0,
      default: 2,
      description: "Softmax temperature T of 'softmax' distillation (unused otherwise).",
    }),
  },
  { additionalProperties: false },
);

/** The options with every default filled in (the paper's iCaRL with 1,000 exemplars). */
export const ICARL_DEFAULTS: Static<typeof IcarlOptions> = {
  bufferSize: 1000,
  selection: 'herding',
  normalize: true,
  classifier: 'nme',
  classification: 'bce',
  distillation: 'sigmoid',
  temperature: 2,
};

/** Key of the teacher logits in `Batch.extras`. */
export const ICARL_LOGITS = 'icarl.logits';

/** One exemplar set: the rows herded from one class of one experience, best first. */
interface ExemplarSet {
  readonly experience: number;
  readonly cls: number;
  rows: Batch;
}

/**
 * iCaRL (Rebuffi, Kolesnikov, Sperl & Lampert 2017, "iCaRL: Incremental Classifier and Representation
 * Learning", CVPR).
 *
 * - `beforeExperience` reads the experience's training data; `trainData` returns it together with every
 *   exemplar (the paper trains on new data ∪ exemplars).
 * - `transformBatch` attaches the logits of the model frozen at the end of the previous experience.
 * - `loss` is by default the paper's: sigmoid binary cross-entropy over the outputs of the classes seen
 *   so far, the targets one-hot for the label except on the old classes (seen before, absent from this
 *   experience), whose targets are the frozen model's sigmoid outputs (distillation). Mean over rows
 *   and those outputs. In a domain-incremental stream every class comes back, so nothing is distilled
 *   there. `classification` and `distillation` swap in softmax variants (see `icarlLoss`).
 * - `afterExperience` herds (or, with `selection: 'random'`, draws) an exemplar set for every class of
 *   the experience from its training data (features: the penultimate layer, L2-normalised unless
 *   `normalize` is false) and shrinks the older sets (each keeps its first rows), so the memory holds
 *   `bufferSize` samples split evenly over the sets. A set belongs to a class *and* an experience, so a
 *   class that comes back (domain-incremental streams) gets a second set, with its own mean.
 *   Then the teacher is frozen.
 * - `predictor` is the nearest-mean-of-exemplars classifier: the mean feature of each exemplar set
 *   (recomputed with the current weights, cached until the next step); a sample goes to the class of
 *   the nearest mean (with one set per class, as in class-IL, exactly the paper's rule). The evaluation
 *   stage uses it instead of the softmax head (unless `classifier: 'output'`).
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
    const column = new Map(classes.map((c, j) => [c, j]));
    const labels = Int32Array.from(ctx.batch.y, (c) => column.get(c) as number);
    const stored = ctx.batch.extras?.[ICARL_LOGITS];
    const now = new Set(ctx.experience.classes);
    const old = stored
      ? this.distilled
          .filter((c) => !now.has(c) && column.has(c) && c < stored.width && c < this.teacher.width)
          .map((c) => column.get(c) as number)
      : [];
    const idx = tf.tensor1d(Int32Array.from(classes), 'int32');
    const logits = tf.gather<tf.Tensor2D>(ctx.logits, idx, 1);
    const teacher = stored ? tf.gather<tf.Tensor2D>(tf.tensor2d(stored.values, [n, stored.width]), idx, 1) : undefined;
    return icarlLoss(logits, labels, old, teacher, this.options);
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
        this.sets.push({
          experience: ctx.experience.index,
          cls: c,
          rows: takeRows(group, this.select(ctx, group, c, per)),
        });
      }
    }
    this.current = undefined;
    this.means = undefined;
    this.teacher.freeze(ctx.model);
    this.distilled = [...this.seen].sort((a, b) => a - b);
  }

  /**
   * The rows of `group` (one class of the experience) kept as its exemplar set, best first: herded
   * (the paper) or in a random order drawn from the pipeline seed, the experience and the class (so a
   * resumed run draws the same order without extra state).
   */
  private select(ctx: ExperienceContext, group: Batch, cls: number, per: number): number[] {
    const n = group.y.length;
    if (this.options.selection === 'random')
      return Array.from(
        new Rng(this.services.seed).derive(`icarl.select.${ctx.experience.index}.${cls}`).permutation(n),
      ).slice(0, per);
    const { values, dim } = this.features(ctx.model, group, ctx.prepare?.bind(ctx));
    return herding(values, n, dim, per);
  }

  /**
   * Penultimate features of host rows, L2-normalised when `normalize` is set. The rows come from
   * `experience.train`, before the pipeline's preprocessing: `prepare` (the context's test-phase
   * preprocessing) puts them in the form the model sees them in at evaluation, so the class means and
   * the test rows' features are comparable.
   */
  private features(
    model: EngramModel,
    rows: Batch,
    prepare: ((b: Batch) => Batch) | undefined,
  ): { values: Float32Array; dim: number } {
    const seen = prepare ? prepare(rows) : rows;
    return hostFeatures(model, seen.x, seen.y.length, seen.sampleShape, 1000, this.options.normalize);
  }

  /**
   * The nearest-mean-of-exemplars classifier (undefined before any exemplar is stored, and with
   * `classifier: 'output'`, so the evaluation uses the network's outputs).
   */
  predictor(ctx: PredictorContext): ((x: tf.Tensor) => tf.Tensor) | undefined {
    if (this.sets.length === 0 || this.options.classifier === 'output') return undefined;
    const normalize = this.options.normalize;
    if (!this.means) {
      this.means = this.sets.map((s) => {
        const { values, dim } = this.features(ctx.model, s.rows, ctx.prepare?.bind(ctx));
        return { cls: s.cls, mean: classMeans(values, s.rows.y, dim, normalize).get(s.cls) as Float32Array };
      });
    }
    const means = this.means;
    const k = ctx.model.outputs();
    return (x) => {
      const f = penultimateFeatures(ctx.model, x);
      return nmeScores(normalize ? l2Normalize(f) : f, means, k);
    };
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
