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
  StringEnum,
  type QuadraticPenalty,
  type SurgeryLineage,
} from '@engram/core';
import {
  arraysToStore,
  disposeStore,
  metaNumber,
  metaObject,
  snapshotVariables,
  storeToArrays,
  type TensorStore,
} from '../common/tensor-state.js';
import { ReplayBuffer } from '../replay/replay-buffer.js';
import { diagonalFisher } from './fisher.js';
import { PenaltyCache } from './quadratic-penalty.js';
import { followSurgery, pendingSurgery } from '../common/surgery-follow.js';

const common = {
  lambda: Type.Number({
    minimum: 0,
    default: 10000,
    description:
      'Penalty strength λ; the loss adds λ/2 · Σ F (θ − θ*)². Values around 1e3–1e5 work on MNIST-sized MLPs.',
  }),
  fisherSamples: Type.Integer({
    minimum: 1,
    default: 1000,
    description:
      "Samples (a uniform reservoir of the experience's preprocessed training batches) the Fisher is estimated from.",
  }),
  labels: StringEnum(['true', 'predicted'] as const, {
    default: 'true',
    description:
      '"true": empirical Fisher with the data labels; "predicted": labels = the model\'s argmax. task "regression" ' +
      'uses the Gaussian Fisher Σₖ(∂fₖ/∂θ)² either way.',
  }),
};

/** Options of `ewc`. */
export const EwcOptions = Type.Object(common, { additionalProperties: false });
/** Options of `online-ewc`. */
export const OnlineEwcOptions = Type.Object(
  {
    ...common,
    gamma: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 1,
      description: 'Decay γ of the running Fisher: F ← γ·F + F_new.',
    }),
  },
  { additionalProperties: false },
);

type EwcSettings = Static<typeof EwcOptions> & { gamma?: number };

interface Anchor {
  importance: TensorStore;
  anchor: TensorStore;
}

/**
 * Elastic Weight Consolidation (Kirkpatrick et al. 2017, "Overcoming catastrophic forgetting in neural
 * networks", PNAS) and its online variant (Schwarz et al. 2018, "Progress & Compress").
 *
 * - `afterBatch` offers the trained batch to a reservoir of `fisherSamples` samples of this experience.
 * - `afterExperience` estimates the diagonal Fisher on that reservoir (exact per-sample squared
 *   gradients, batched for Dense and Conv2D stacks and graphs) and stores it with a copy of the weights θ*. `ewc` keeps one
 *   pair per past experience; `online-ewc` keeps one running Fisher `γ·F + F_new` and the latest θ*.
 * - `penalty` returns `λ/2 · Σₖ Σᵢ Fₖ,ᵢ (θᵢ − θ*ₖ,ᵢ)²` (its gradient is `λ·F·(θ − θ*)`).
 */
export class EwcStrategy implements Strategy {
  private anchors: Anchor[] = [];
  private readonly sampler: ReplayBuffer;
  private readonly followed = new WeakSet<SurgeryLineage>();
  private readonly penaltyCache = new PenaltyCache();

  constructor(
    readonly name: 'ewc' | 'online-ewc',
    private readonly options: EwcSettings,
    services: ComponentServices,
  ) {
    this.sampler = new ReplayBuffer(options.fisherSamples, 'reservoir', services.rng.derive('fisher-samples'));
  }

  /** Consolidations so far (one per past experience for `ewc`; at most one for `online-ewc`). */
  get penalties(): readonly Anchor[] {
    return this.anchors;
  }

  beforeExperience(): void {
    this.sampler.clear();
  }

  /** After a model surgery, moves every Fisher and anchor to its variable's new position and shape. */
  adaptModel(ctx: ExperienceContext): void {
    const lineage = pendingSurgery(ctx.model, ctx.experience.index, this.followed);
    if (!lineage) return;
    for (const a of this.anchors) {
      a.importance = followSurgery(a.importance, lineage, 'importance');
      a.anchor = followSurgery(a.anchor, lineage, 'weights');
    }
  }

  afterBatch(ctx: AfterBatchContext): void {
    this.sampler.add(ctx.batch, ctx.experience.index);
  }

  penalty(ctx: LossContext): QuadraticPenalty | void {
    return this.penaltyCache.penalty(ctx.model.trainableVariables(), this.anchors, this.options.lambda / 2);
  }

  afterExperience(ctx: ExperienceContext): void {
    const data = this.sampler.all();
    if (!data) return;
    this.consolidate(
      diagonalFisher(ctx.model, data, this.options.labels),
      snapshotVariables(ctx.model.trainableVariables()),
    );
    this.sampler.clear();
  }

  /** Adds a Fisher/anchor pair (online: decays and merges into the single running one). Takes ownership. */
  consolidate(fisher: TensorStore, anchor: TensorStore): void {
    const last = this.anchors[0];
    if (this.name === 'ewc' || !last) {
      this.anchors.push({ importance: fisher, anchor });
      return;
    }
    const gamma = this.options.gamma ?? 1;
    for (const [k, f] of fisher) {
      const old = last.importance.get(k);
      if (old && old.shape.join() === f.shape.join()) {
        last.importance.set(
          k,
          tf.tidy(() => tf.add(tf.mul(old, gamma), f)),
        );
        old.dispose();
        f.dispose();
      } else {
        old?.dispose();
        last.importance.set(k, f);
      }
    }
    disposeStore(last.anchor);
    last.anchor = anchor;
  }

  state(): SerializedState {
    const arrays: Record<string, StateArray> = {};
    this.anchors.forEach((a, i) => {
      storeToArrays(`F${i}`, a.importance, arrays);
      storeToArrays(`theta${i}`, a.anchor, arrays);
    });
    const s = this.sampler.state();
    for (const [k, v] of Object.entries(s.arrays ?? {})) arrays[`sampler.${k}`] = v;
    return { meta: { count: this.anchors.length, sampler: s.meta ?? null }, arrays };
  }

  restore(state: SerializedState): void {
    const meta = metaObject(state.meta, this.name);
    this.dispose();
    const count = metaNumber(meta, 'count', this.name);
    for (let i = 0; i < count; i++) {
      this.anchors.push({
        importance: arraysToStore(`F${i}`, state.arrays),
        anchor: arraysToStore(`theta${i}`, state.arrays),
      });
    }
    const arrays: Record<string, StateArray> = {};
    for (const [k, v] of Object.entries(state.arrays ?? {})) if (k.startsWith('sampler.')) arrays[k.slice(8)] = v;
    this.sampler.restore({ meta: (meta['sampler'] ?? null) as JsonValue, arrays });
  }

  dispose(): void {
    for (const a of this.anchors) {
      disposeStore(a.importance);
      disposeStore(a.anchor);
    }
    this.anchors = [];
  }
}

/** Registration of `ewc` and `online-ewc`. */
export const ewcDescriptors: ComponentDescriptor[] = [
  {
    role: 'strategy',
    kind: 'ewc',
    description:
      'Elastic Weight Consolidation (Kirkpatrick et al. 2017): one Fisher-weighted quadratic penalty per past experience.',
    options: EwcOptions,
    create: (o, services) => new EwcStrategy('ewc', o as Static<typeof EwcOptions>, services),
  },
  {
    role: 'strategy',
    kind: 'online-ewc',
    description:
      'Online EWC (Schwarz et al. 2018): one running Fisher decayed by gamma, anchored at the latest weights.',
    options: OnlineEwcOptions,
    create: (o, services) => new EwcStrategy('online-ewc', o as Static<typeof OnlineEwcOptions>, services),
  },
];
