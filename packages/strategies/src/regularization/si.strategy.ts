import * as tf from '@tensorflow/tfjs';
import {
  Type,
  type AfterBatchContext,
  type ComponentDescriptor,
  type ExperienceContext,
  type LossContext,
  type SerializedState,
  type StateArray,
  type Static,
  type StepContext,
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
  variableKey,
  type TensorStore,
} from '../common/tensor-state.js';
import { PenaltyCache } from './quadratic-penalty.js';
import { followSurgery, pendingSurgery } from '../common/surgery-follow.js';

/** Options of `si`. */
export const SiOptions = Type.Object(
  {
    c: Type.Number({ minimum: 0, default: 1, description: 'Penalty strength c; the loss adds c · Σ Ω (θ − θ*)².' }),
    xi: Type.Number({ exclusiveMinimum: 0, default: 0.1, description: 'Damping ξ in Ω += ω / (Δθ² + ξ).' }),
  },
  { additionalProperties: false },
);

/**
 * Synaptic Intelligence (Zenke, Poole & Ganguli 2017, "Continual learning through synaptic
 * intelligence", ICML).
 *
 * - `afterBackward` keeps the gradient g applied at this step and the weights before the step.
 * - `afterBatch` accumulates the path integral ω += −g · (θ_after − θ_before).
 * - `afterExperience` turns it into importance Ω += ω / ((θ_end − θ_start)² + ξ), resets ω and anchors
 *   θ* = θ_end.
 * - `penalty` returns c · Σ Ω (θ − θ*)².
 */
export class SiStrategy implements Strategy {
  readonly name = 'si';
  private omega: TensorStore = new Map();
  private importance: TensorStore = new Map();
  private anchor: TensorStore = new Map();
  private start: TensorStore = new Map();
  private pendingGrads: TensorStore = new Map();
  private before: TensorStore = new Map();
  private readonly followed = new WeakSet<SurgeryLineage>();
  private readonly penaltyCache = new PenaltyCache();

  constructor(private readonly options: Static<typeof SiOptions>) {}

  /** Accumulated path integral ω of the current experience (read-only view). */
  get pathIntegral(): ReadonlyMap<string, tf.Tensor> {
    return this.omega;
  }

  /** Importance Ω consolidated so far (read-only view). */
  get importances(): ReadonlyMap<string, tf.Tensor> {
    return this.importance;
  }

  beforeExperience(): void {
    disposeStore(this.start);
  }

  /** After a model surgery, moves the importance Ω and the anchor to each variable's new position and shape. */
  adaptModel(ctx: ExperienceContext): void {
    const lineage = pendingSurgery(ctx.model, ctx.experience.index, this.followed);
    if (!lineage) return;
    this.importance = followSurgery(this.importance, lineage, 'importance');
    this.anchor = followSurgery(this.anchor, lineage, 'weights');
    disposeStore(this.omega);
  }

  afterBackward(grads: tf.NamedTensorMap, ctx: StepContext): tf.NamedTensorMap {
    const vars = ctx.model.trainableVariables();
    if (this.start.size === 0) this.start = snapshotVariables(vars);
    disposeStore(this.pendingGrads);
    disposeStore(this.before);
    for (const [i, v] of vars.entries()) {
      const g = grads[v.name];
      if (!g) continue;
      this.pendingGrads.set(variableKey(i), tf.clone(g));
      this.before.set(variableKey(i), tf.clone(v));
    }
    return grads;
  }

  afterBatch(ctx: AfterBatchContext): void {
    for (const [i, v] of ctx.model.trainableVariables().entries()) {
      const key = variableKey(i);
      const g = this.pendingGrads.get(key);
      const b = this.before.get(key);
      if (!g || !b || b.shape.join() !== v.shape.join()) continue;
      const old = this.omega.get(key);
      const next = tf.tidy(() => {
        const step = tf.neg(tf.mul(g, tf.sub(v, b)));
        return old && old.shape.join() === v.shape.join() ? tf.add(old, step) : step;
      });
      old?.dispose();
      this.omega.set(key, next);
    }
    disposeStore(this.pendingGrads);
    disposeStore(this.before);
  }

  afterExperience(ctx: ExperienceContext): void {
    const vars = ctx.model.trainableVariables();
    for (const [i, v] of vars.entries()) {
      const key = variableKey(i);
      const w = this.omega.get(key);
      const s = this.start.get(key);
      if (!w || !s || s.shape.join() !== v.shape.join()) continue;
      const old = this.importance.get(key);
      const next = tf.tidy(() => {
        const add = tf.div(w, tf.add(tf.square(tf.sub(v, s)), this.options.xi));
        return old && old.shape.join() === v.shape.join() ? tf.add(old, add) : add;
      });
      old?.dispose();
      this.importance.set(key, next);
    }
    disposeStore(this.omega);
    disposeStore(this.anchor);
    this.anchor = snapshotVariables(vars);
    disposeStore(this.start);
    this.start = snapshotVariables(vars);
  }

  penalty(ctx: LossContext): QuadraticPenalty | void {
    return this.penaltyCache.penalty(
      ctx.model.trainableVariables(),
      [{ importance: this.importance, anchor: this.anchor }],
      this.options.c,
    );
  }

  state(): SerializedState {
    const arrays: Record<string, StateArray> = {};
    storeToArrays('omega', this.omega, arrays);
    storeToArrays('importance', this.importance, arrays);
    storeToArrays('anchor', this.anchor, arrays);
    storeToArrays('start', this.start, arrays);
    return { meta: { kind: 'si' }, arrays };
  }

  restore(state: SerializedState): void {
    metaObject(state.meta, 'si');
    this.dispose();
    this.omega = arraysToStore('omega', state.arrays);
    this.importance = arraysToStore('importance', state.arrays);
    this.anchor = arraysToStore('anchor', state.arrays);
    this.start = arraysToStore('start', state.arrays);
  }

  dispose(): void {
    for (const s of [this.omega, this.importance, this.anchor, this.start, this.pendingGrads, this.before])
      disposeStore(s);
  }
}

/** Registration of `si`. */
export const siDescriptors: ComponentDescriptor[] = [
  {
    role: 'strategy',
    kind: 'si',
    description: 'Synaptic Intelligence (Zenke et al. 2017): importance from the path integral of gradient × update.',
    options: SiOptions,
    create: (o) => new SiStrategy(o as Static<typeof SiOptions>),
  },
];
