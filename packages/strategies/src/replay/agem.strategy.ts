import * as tf from '@tensorflow/tfjs';
import {
  Type,
  type AfterBatchContext,
  type Batch,
  type ComponentDescriptor,
  type ComponentServices,
  type Rng,
  type SerializedState,
  type Static,
  type StepContext,
  type Strategy,
} from '@engram/core';
import { memoryState, restoreMemory } from './memory-state.js';
import { ReplayBuffer } from './replay-buffer.js';

/** Options of `agem`. */
export const AgemOptions = Type.Object(
  {
    bufferSize: Type.Integer({
      minimum: 1,
      default: 1000,
      description: 'Samples the episodic memory holds (reservoir over past experiences).',
    }),
    sampleSize: Type.Integer({
      minimum: 1,
      default: 256,
      description: 'Memory samples drawn for the reference gradient at each step.',
    }),
  },
  { additionalProperties: false },
);

/**
 * The A-GEM projection: when `g · g_ref < 0`, returns `g − (g·g_ref / g_ref·g_ref) · g_ref` (new
 * tensors); otherwise returns `g` itself. Dot products run over the variables present in both maps.
 */
export function projectGradients(grads: tf.NamedTensorMap, ref: tf.NamedTensorMap): tf.NamedTensorMap {
  const keys = Object.keys(grads).filter((k) => ref[k] && ref[k].shape.join() === grads[k]?.shape.join());
  if (keys.length === 0) return grads;
  const [dot, norm] = tf.tidy(() => {
    let d = tf.scalar(0);
    let r = tf.scalar(0);
    for (const k of keys) {
      d = tf.add(d, tf.sum(tf.mul(grads[k] as tf.Tensor, ref[k] as tf.Tensor)));
      r = tf.add(r, tf.sum(tf.square(ref[k] as tf.Tensor)));
    }
    return [d.dataSync()[0] as number, r.dataSync()[0] as number];
  });
  if (dot >= 0 || norm === 0) return grads;
  const scale = dot / norm;
  const out: tf.NamedTensorMap = { ...grads };
  for (const k of keys) out[k] = tf.tidy(() => tf.sub(grads[k] as tf.Tensor, tf.mul(ref[k] as tf.Tensor, scale)));
  return out;
}

/**
 * Averaged Gradient Episodic Memory (Chaudhry, Ranzato, Rohrbach & Elhoseiny 2019, "Efficient Lifelong
 * Learning with A-GEM", ICLR).
 *
 * - `afterBatch` offers the trained samples to a reservoir memory tagged with their experience.
 * - `afterBackward` draws `sampleSize` samples of *past* experiences, takes their gradient with
 *   `ctx.gradientsOf` as the reference g_ref and projects the step's gradient with
 *   {@link projectGradients}, so the loss on the memory does not increase to first order.
 */
export class AgemStrategy implements Strategy {
  readonly name = 'agem';
  readonly buffer: ReplayBuffer;
  private readonly draw: Rng;
  private experiences = 0;

  constructor(
    private readonly options: Static<typeof AgemOptions>,
    services: ComponentServices,
  ) {
    this.buffer = new ReplayBuffer(options.bufferSize, 'reservoir', services.rng.derive('buffer'));
    this.draw = services.rng.derive('draw');
  }

  afterBackward(grads: tf.NamedTensorMap, ctx: StepContext): tf.NamedTensorMap {
    const current = this.experiences;
    const ref = this.buffer.sample(this.options.sampleSize, this.draw, (e) => e < current);
    if (!ref) return grads;
    const refGrads = ctx.gradientsOf(ref);
    try {
      return projectGradients(grads, refGrads);
    } finally {
      for (const t of Object.values(refGrads)) t.dispose();
    }
  }

  afterBatch(ctx: AfterBatchContext): void {
    this.buffer.add(ctx.batch, this.experiences);
  }

  afterExperience(): void {
    this.experiences++;
  }

  /** The memory's rows (copies), for serving's promotion gates (`Strategy.memory`). */
  memory(): Batch | undefined {
    return this.buffer.all();
  }

  state(): SerializedState {
    return memoryState(this.buffer, this.draw, this.experiences);
  }

  restore(state: SerializedState): void {
    this.experiences = restoreMemory(state, 'agem', this.buffer, this.draw);
  }
}

/** Registration of `agem`. */
export const agemDescriptors: ComponentDescriptor[] = [
  {
    role: 'strategy',
    kind: 'agem',
    description:
      'A-GEM (Chaudhry et al. 2019): projects each gradient so the loss on a memory of past samples does not increase.',
    options: AgemOptions,
    create: (o, services) => new AgemStrategy(o as Static<typeof AgemOptions>, services),
  },
];
