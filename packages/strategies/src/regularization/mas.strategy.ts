import * as tf from '@tensorflow/tfjs';
import {
  Type,
  type AfterBatchContext,
  type ComponentDescriptor,
  type ComponentServices,
  type ExperienceContext,
  type JsonValue,
  type LossContext,
  type SerializedState,
  type StateArray,
  type Static,
  type Strategy,
  type SurgeryLineage,
  type QuadraticPenalty,
} from '@engram/core';
import {
  arraysToStore,
  disposeStore,
  metaObject,
  snapshotVariables,
  storeToArrays,
  type TensorStore,
} from '../common/tensor-state.js';
import { ReplayBuffer } from '../replay/replay-buffer.js';
import { perSampleDiagonal } from './fisher.js';
import { PenaltyCache } from './quadratic-penalty.js';
import { followSurgery, pendingSurgery } from '../common/surgery-follow.js';

/** Options of `mas`. */
export const MasOptions = Type.Object(
  {
    lambda: Type.Number({
      minimum: 0,
      default: 1,
      description: 'Penalty strength λ; the loss adds λ · Σ Ω (θ − θ*)².',
    }),
    alpha: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.5,
      description: 'Ω ← α·Ω + (1 − α)·Ω_new after each experience (after the first).',
    }),
    samples: Type.Integer({
      minimum: 1,
      default: 1000,
      description: "Samples (reservoir of the experience's training batches) the importance is estimated from.",
    }),
  },
  { additionalProperties: false },
);

/** Sum over samples of the squared L2 norm of the logits (labels unused). */
function summedSquaredNorm(logits: tf.Tensor): tf.Scalar {
  return tf.sum<tf.Scalar>(tf.square(logits));
}

/**
 * Memory Aware Synapses (Aljundi et al. 2018, "Memory Aware Synapses: Learning what (not) to forget",
 * ECCV). Importance is the mean absolute per-sample gradient of the squared L2 norm of the output,
 * estimated in `afterExperience` from a reservoir filled in `afterBatch` (exact per-sample values,
 * batched for Dense and Conv2D stacks and graphs); it is merged as Ω ← α·Ω + (1 − α)·Ω_new (Avalanche's form).
 * `penalty` returns λ · Σ Ω (θ − θ*)².
 */
export class MasStrategy implements Strategy {
  readonly name = 'mas';
  private importance: TensorStore = new Map();
  private anchor: TensorStore = new Map();
  private readonly sampler: ReplayBuffer;
  private readonly followed = new WeakSet<SurgeryLineage>();
  private readonly penaltyCache = new PenaltyCache();

  constructor(
    private readonly options: Static<typeof MasOptions>,
    services: ComponentServices,
  ) {
    this.sampler = new ReplayBuffer(options.samples, 'reservoir', services.rng.derive('mas-samples'));
  }

  /** Importance Ω consolidated so far (read-only view). */
  get importances(): ReadonlyMap<string, tf.Tensor> {
    return this.importance;
  }

  beforeExperience(): void {
    this.sampler.clear();
  }

  /** After a model surgery, moves the importance and the anchor to each variable's new position and shape. */
  adaptModel(ctx: ExperienceContext): void {
    const lineage = pendingSurgery(ctx.model, ctx.experience.index, this.followed);
    if (!lineage) return;
    this.importance = followSurgery(this.importance, lineage, 'importance');
    this.anchor = followSurgery(this.anchor, lineage, 'weights');
  }

  afterBatch(ctx: AfterBatchContext): void {
    this.sampler.add(ctx.batch, ctx.experience.index);
  }

  afterExperience(ctx: ExperienceContext): void {
    const data = this.sampler.all();
    if (!data) return;
    const fresh = perSampleDiagonal(ctx.model, data, 'true', summedSquaredNorm, 'abs');
    const first = this.importance.size === 0;
    for (const [k, f] of fresh) {
      const old = this.importance.get(k);
      if (!first && old && old.shape.join() === f.shape.join()) {
        this.importance.set(
          k,
          tf.tidy(() => tf.add(tf.mul(old, this.options.alpha), tf.mul(f, 1 - this.options.alpha))),
        );
        f.dispose();
      } else {
        this.importance.set(k, f);
      }
      old?.dispose();
    }
    disposeStore(this.anchor);
    this.anchor = snapshotVariables(ctx.model.trainableVariables());
    this.sampler.clear();
  }

  penalty(ctx: LossContext): QuadraticPenalty | void {
    return this.penaltyCache.penalty(
      ctx.model.trainableVariables(),
      [{ importance: this.importance, anchor: this.anchor }],
      this.options.lambda,
    );
  }

  state(): SerializedState {
    const arrays: Record<string, StateArray> = {};
    storeToArrays('importance', this.importance, arrays);
    storeToArrays('anchor', this.anchor, arrays);
    const s = this.sampler.state();
    for (const [k, v] of Object.entries(s.arrays ?? {})) arrays[`sampler.${k}`] = v;
    return { meta: { sampler: s.meta ?? null }, arrays };
  }

  restore(state: SerializedState): void {
    const meta = metaObject(state.meta, 'mas');
    this.dispose();
    this.importance = arraysToStore('importance', state.arrays);
    this.anchor = arraysToStore('anchor', state.arrays);
    const arrays: Record<string, StateArray> = {};
    for (const [k, v] of Object.entries(state.arrays ?? {})) if (k.startsWith('sampler.')) arrays[k.slice(8)] = v;
    this.sampler.restore({ meta: (meta['sampler'] ?? null) as JsonValue, arrays });
  }

  dispose(): void {
    disposeStore(this.importance);
    disposeStore(this.anchor);
  }
}

/** Registration of `mas`. */
export const masDescriptors: ComponentDescriptor[] = [
  {
    role: 'strategy',
    kind: 'mas',
    description:
      'Memory Aware Synapses (Aljundi et al. 2018): importance = mean |gradient of the squared output norm|.',
    options: MasOptions,
    create: (o, services) => new MasStrategy(o as Static<typeof MasOptions>, services),
  },
];
