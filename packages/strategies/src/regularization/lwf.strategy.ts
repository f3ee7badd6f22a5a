import * as tf from '@tensorflow/tfjs';
import {
  Type, type Batch, type ComponentDescriptor, type ExperienceContext, type LossContext, type SerializedState,
  type StateArray, type Static, type StepContext, type Strategy, type SurgeryLineage,
} from '@engram/core';
import { embedLeading, grewFrom, sameShape } from '../common/grown-shapes.js';
import { unmaskedLogits } from '../common/head-logits.js';
import { followSurgery, pendingSurgery } from '../common/surgery-follow.js';
import { arraysToStore, disposeStore, metaObject, snapshotVariables, storeToArrays, variableKey, type TensorStore } from '../common/tensor-state.js';

/** Options of `lwf`. */
export const LwfOptions = Type.Object({
  alpha: Type.Number({ minimum: 0, default: 1, description: 'Weight of the distillation term.' }),
  temperature: Type.Number({ exclusiveMinimum: 0, default: 2, description: 'Softmax temperature T of teacher and student.' }),
}, { additionalProperties: false });

/** Key of the teacher logits in `Batch.extras`. */
export const LWF_LOGITS = 'lwf.logits';

/**
 * Learning without Forgetting (Li & Hoiem 2016, "Learning without Forgetting", ECCV / TPAMI 2018).
 *
 * - `afterExperience` freezes a teacher: a copy of the weights, and the classes seen so far.
 * - `transformBatch` computes the teacher's logits on the batch (weights swapped in, inference mode,
 *   outside the gradient tape) and attaches them as `extras['lwf.logits']`. A head that grew since
 *   (`grow-head`) gets the teacher's columns for the old classes; only those are distilled.
 * - `penalty` returns α · KL(softmax(teacher/T) ‖ softmax(student/T)) over the previously seen classes,
 *   averaged over the batch (Avalanche's form). Multi-head wrappers are distilled on unmasked logits.
 */
export class LwfStrategy implements Strategy {
  readonly name = 'lwf';
  private teacher: TensorStore = new Map();
  private oldClasses: number[] = [];
  private seenClasses = new Set<number>();
  private readonly followed = new WeakSet<SurgeryLineage>();

  constructor(private readonly options: Static<typeof LwfOptions>) {}

  beforeExperience(ctx: ExperienceContext): void {
    for (const c of ctx.experience.classes) this.seenClasses.add(c);
  }

  /**
   * After a model surgery, turns the teacher's weights as the surgery turned the model's (copied units,
   * split outgoing weights, an inserted layer at its identity start), so it still computes the old function.
   */
  adaptModel(ctx: ExperienceContext): void {
    const lineage = pendingSurgery(ctx.model, ctx.experience.index, this.followed);
    if (lineage && this.teacher.size > 0) this.teacher = followSurgery(this.teacher, lineage, 'weights', true);
  }

  transformBatch(batch: Batch, ctx: StepContext): Batch {
    if (this.teacher.size === 0 || this.oldClasses.length === 0) return batch;
    const vars = ctx.model.trainableVariables();
    const saved: tf.Tensor[] = [];
    const swapped: tf.Variable[] = [];
    for (const [i, v] of vars.entries()) {
      const t = this.teacher.get(variableKey(i));
      if (!t || !(sameShape(t.shape, v.shape) || grewFrom(t.shape, v.shape))) continue;
      saved.push(tf.clone(v));
      swapped.push(v);
      // A head that grew since the teacher was frozen gets the teacher's old block back.
      const value = sameShape(t.shape, v.shape) ? t : embedLeading(t, v);
      v.assign(value);
      if (value !== t) value.dispose();
    }
    let values: Float32Array;
    let width: number;
    try {
      const logits = tf.tidy(() => {
        const x = tf.tensor(batch.x, [batch.y.length, ...batch.sampleShape], 'float32');
        return unmaskedLogits(ctx.model, x, { training: false, ...(batch.task ? { task: batch.task } : {}) });
      });
      width = logits.shape[1] as number;
      values = logits.dataSync() as Float32Array;
      logits.dispose();
    } finally {
      swapped.forEach((v, i) => v.assign(saved[i] as tf.Tensor));
      for (const s of saved) s.dispose();
    }
    return { ...batch, extras: { ...(batch.extras ?? {}), [LWF_LOGITS]: { width, values: Float32Array.from(values) } } };
  }

  penalty(ctx: LossContext): tf.Scalar | void {
    const stored = ctx.batch.extras?.[LWF_LOGITS];
    if (!stored || this.oldClasses.length === 0) return undefined;
    const n = ctx.batch.y.length;
    const task = ctx.batch.task ? { task: ctx.batch.task } : {};
    const student = 'mapLogits' in ctx.model ? unmaskedLogits(ctx.model, ctx.x, { training: true, ...task }) : ctx.logits;
    const idx = tf.tensor1d(this.oldClasses, 'int32');
    const t = tf.div(tf.gather(tf.tensor2d(stored.values, [n, stored.width]), idx, 1), this.options.temperature);
    const s = tf.div(tf.gather(student, idx, 1), this.options.temperature);
    const q = tf.softmax(t);
    const kl = tf.div(tf.sum(tf.mul(q, tf.sub(tf.logSoftmax(t), tf.logSoftmax(s)))), n);
    return tf.mul(kl, this.options.alpha) as tf.Scalar;
  }

  afterExperience(ctx: ExperienceContext): void {
    disposeStore(this.teacher);
    this.teacher = snapshotVariables(ctx.model.trainableVariables());
    this.oldClasses = [...this.seenClasses].sort((a, b) => a - b);
  }

  state(): SerializedState {
    const arrays: Record<string, StateArray> = {};
    storeToArrays('teacher', this.teacher, arrays);
    return { meta: { oldClasses: this.oldClasses, seenClasses: [...this.seenClasses] }, arrays };
  }

  restore(state: SerializedState): void {
    const meta = metaObject(state.meta, 'lwf');
    disposeStore(this.teacher);
    this.teacher = arraysToStore('teacher', state.arrays);
    this.oldClasses = [...((meta['oldClasses'] as number[] | undefined) ?? [])];
    this.seenClasses = new Set((meta['seenClasses'] as number[] | undefined) ?? []);
  }

  dispose(): void {
    disposeStore(this.teacher);
  }
}

/** Registration of `lwf`. */
export const lwfDescriptors: ComponentDescriptor[] = [
  {
    role: 'strategy',
    kind: 'lwf',
    description: 'Learning without Forgetting (Li & Hoiem 2016): distils a frozen copy of the previous model at temperature T.',
    options: LwfOptions,
    create: (o) => new LwfStrategy(o as Static<typeof LwfOptions>),
  },
];
