import * as tf from '@tensorflow/tfjs';
import {
  Type,
  type Batch,
  type ComponentDescriptor,
  type ExperienceContext,
  type LossContext,
  type SerializedState,
  type StateArray,
  type Static,
  type StepContext,
  type Strategy,
  type SurgeryLineage,
} from '@engram/core';
import { FrozenTeacher } from '../common/frozen-teacher.js';
import { unmaskedLogits } from '../common/head-logits.js';
import { pendingSurgery } from '../common/surgery-follow.js';
import { metaObject } from '../common/tensor-state.js';

/** Options of `lwf`. */
export const LwfOptions = Type.Object(
  {
    alpha: Type.Number({ minimum: 0, default: 1, description: 'Weight of the distillation term.' }),
    temperature: Type.Number({
      exclusiveMinimum: 0,
      default: 2,
      description: 'Softmax temperature T of teacher and student.',
    }),
  },
  { additionalProperties: false },
);

/** Key of the teacher logits in `Batch.extras`. */
export const LWF_LOGITS = 'lwf.logits';

/**
 * Distillation loss of LwF: `T² · mean over rows of KL(softmax(teacher/T) ‖ softmax(student/T))`.
 * The T² factor (Hinton, Vinyals & Dean 2015) keeps the gradient's scale independent of T, as in
 * Li & Hoiem's and van de Ven et al.'s implementations. Both tensors are `[n, k]` logits over the same
 * columns; the result is a scalar (a new tensor; run it inside a tape or tidy).
 */
export function distillationLoss(teacher: tf.Tensor2D, student: tf.Tensor2D, temperature: number): tf.Scalar {
  return tf.tidy(() => {
    const t = tf.div(teacher, temperature);
    const s = tf.div(student, temperature);
    const kl = tf.sum(tf.mul(tf.softmax(t), tf.sub(tf.logSoftmax(t), tf.logSoftmax(s))), 1);
    return tf.mul<tf.Scalar>(tf.mean(kl), temperature * temperature);
  });
}

/**
 * Learning without Forgetting (Li & Hoiem 2016, "Learning without Forgetting", ECCV / TPAMI 2018), in
 * the form van de Ven, Tuytelaars & Tolias (2022, "Three types of incremental learning", Nature Machine
 * Intelligence; and 2019, arXiv:1904.07734) use for all three scenarios.
 *
 * - `afterExperience` freezes a teacher: a copy of the weights and the width of its output layer.
 * - `transformBatch` computes the teacher's logits on the batch (weights swapped in, inference mode,
 *   outside the gradient tape) and attaches them as `extras['lwf.logits']`. A head that grew since
 *   (`grow-head`) gets the teacher's own columns back; only those (the teacher's outputs) are distilled.
 * - `penalty` returns α · T² · KL(softmax(teacher/T) ‖ softmax(student/T)) over **all** of the
 *   previous model's outputs, averaged over the batch ({@link distillationLoss}). Multi-head wrappers
 *   are distilled on unmasked logits.
 *
 * Why all outputs and not only the old classes' columns: with one shared head (class-IL), distilling
 * only the old columns leaves the new classes' logits free to grow on old inputs, so the softmax over
 * all classes forgets exactly as naive fine-tuning does. Matching the teacher's whole distribution
 * (where the old model gives the new classes low scores) is what holds them down — the variant of the
 * original paper (every output of the old network) and of van de Ven et al.'s reference code.
 */
export class LwfStrategy implements Strategy {
  readonly name = 'lwf';
  private readonly teacher = new FrozenTeacher();

  private readonly followed = new WeakSet<SurgeryLineage>();

  constructor(private readonly options: Static<typeof LwfOptions>) {}

  /**
   * After a model surgery, turns the teacher's weights as the surgery turned the model's (copied units,
   * split outgoing weights, an inserted layer at its identity start), so it still computes the old function.
   */
  adaptModel(ctx: ExperienceContext): void {
    const lineage = pendingSurgery(ctx.model, ctx.experience.index, this.followed);
    if (lineage) this.teacher.follow(lineage);
  }

  transformBatch(batch: Batch, ctx: StepContext): Batch {
    if (!this.teacher.frozen) return batch;
    return { ...batch, extras: { ...(batch.extras ?? {}), [LWF_LOGITS]: this.teacher.logits(ctx.model, batch) } };
  }

  penalty(ctx: LossContext): tf.Scalar | void {
    const stored = ctx.batch.extras?.[LWF_LOGITS];
    if (!stored || !this.teacher.frozen) return undefined;
    const n = ctx.batch.y.length;
    const task = ctx.batch.task ? { task: ctx.batch.task } : {};
    const student = (
      'mapLogits' in ctx.model ? unmaskedLogits(ctx.model, ctx.x, { training: true, ...task }) : ctx.logits
    ) as tf.Tensor2D;
    const k = Math.min(this.teacher.width, stored.width, student.shape[1]);
    const teacher = tf.slice(tf.tensor2d(stored.values, [n, stored.width]), [0, 0], [n, k]);
    const own = k === student.shape[1] ? student : tf.slice(student, [0, 0], [n, k]);
    return tf.mul<tf.Scalar>(distillationLoss(teacher, own, this.options.temperature), this.options.alpha);
  }

  afterExperience(ctx: ExperienceContext): void {
    this.teacher.freeze(ctx.model);
  }

  state(): SerializedState {
    const arrays: Record<string, StateArray> = {};
    this.teacher.toArrays('teacher', arrays);
    return { meta: { teacherWidth: this.teacher.width }, arrays };
  }

  restore(state: SerializedState): void {
    const meta = metaObject(state.meta, 'lwf');
    this.teacher.fromArrays('teacher', state.arrays, (meta['teacherWidth'] as number | undefined) ?? 0);
  }

  dispose(): void {
    this.teacher.dispose();
  }
}

/** Registration of `lwf`. */
export const lwfDescriptors: ComponentDescriptor[] = [
  {
    role: 'strategy',
    kind: 'lwf',
    classesOnly: 'it distils softmax class probabilities',
    description:
      'Learning without Forgetting (Li & Hoiem 2016): distils all outputs of a frozen copy of the previous model, T²·KL at temperature T.',
    options: LwfOptions,
    create: (o) => new LwfStrategy(o as Static<typeof LwfOptions>),
  },
];
