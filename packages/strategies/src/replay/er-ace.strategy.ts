import * as tf from '@tensorflow/tfjs';
import {
  concatBatches,
  StringEnum,
  Type,
  type AfterBatchContext,
  type Batch,
  type ComponentDescriptor,
  type ComponentServices,
  type LossContext,
  type Rng,
  type SerializedState,
  type Static,
  type Strategy,
} from '@engram/core';
import { memoryState, restoreMemory } from './memory-state.js';
import { ReplayBuffer } from './replay-buffer.js';

/** Options of `er-ace`. */
export const ErAceOptions = Type.Object(
  {
    bufferSize: Type.Integer({ minimum: 1, default: 1000, description: 'Samples the memory holds.' }),
    policy: StringEnum(['reservoir', 'class-balanced'] as const, {
      default: 'reservoir',
      description: "What a full memory keeps: a uniform reservoir (the paper's) or a class-balanced reservoir.",
    }),
    replayBatchSize: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Memory samples replayed per step (default: the incoming batch size).' }),
    ),
  },
  { additionalProperties: false },
);

/** Additive mask value for the logits a row may not score. */
const MASKED = -1e9;

/**
 * The ER-ACE loss on logits `[n, k]` whose first `incoming` rows are the incoming batch and the rest
 * replayed memory: cross-entropy of the incoming rows over the classes present among the incoming
 * labels only (the logits of every other class masked, so the new data pushes no old class down), plus
 * the plain cross-entropy of the replayed rows over all classes. Each term is a mean over its rows;
 * their sum is returned (Caccia et al. 2022, eq. 4). A new tensor; call it inside a tape or tidy.
 */
export function aceLoss(logits: tf.Tensor2D, labels: Int32Array, incoming: number): tf.Scalar {
  return tf.tidy(() => {
    const [n, k] = logits.shape;
    const present = new Float32Array(k).fill(MASKED);
    for (let i = 0; i < incoming; i++) present[labels[i] as number] = 0;
    const ce = (z: tf.Tensor2D, y: Int32Array): tf.Scalar =>
      tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(tf.tensor1d(y, 'int32'), k), tf.logSoftmax(z)), 1))) as tf.Scalar;
    const current = tf.slice(logits, [0, 0], [incoming, k]);
    let loss = ce(tf.add<tf.Tensor2D>(current, tf.tensor2d(present, [1, k])), labels.subarray(0, incoming));
    if (n > incoming)
      loss = tf.add<tf.Scalar>(loss, ce(tf.slice(logits, [incoming, 0], [n - incoming, k]), labels.subarray(incoming)));
    return loss;
  });
}

/**
 * ER-ACE: experience replay with the asymmetric cross-entropy (Caccia, Aljundi, Asadi, Tuytelaars,
 * Pineau & Belilovsky 2022, "New Insights on Reducing Abrupt Representation Change in Online Continual
 * Learning", ICLR).
 *
 * - `transformBatch` keeps the incoming rows and appends a random draw from the memory (none before
 *   anything is stored).
 * - `loss` replaces the cross-entropy by {@link aceLoss}: the incoming rows compete only among the
 *   classes present in the incoming batch, the replayed rows among all classes (every class seen so far).
 *   This stops the new classes' gradients from pushing the old classes' logits down, the cause of the
 *   abrupt drift of old representations at each task switch.
 * - `afterBatch` offers the incoming rows (not the replayed ones) to the memory.
 *
 * State = the memory, its counters and both generators.
 */
export class ErAceStrategy implements Strategy {
  readonly name = 'er-ace';
  readonly buffer: ReplayBuffer;
  private readonly draw: Rng;
  private incoming: Batch | undefined;
  private experiences = 0;

  constructor(
    private readonly options: Static<typeof ErAceOptions>,
    services: ComponentServices,
  ) {
    this.buffer = new ReplayBuffer(options.bufferSize, options.policy, services.rng.derive('buffer'));
    this.draw = services.rng.derive('draw');
  }

  transformBatch(batch: Batch): Batch {
    this.incoming = batch;
    const replay = this.buffer.sample(this.options.replayBatchSize ?? batch.y.length, this.draw);
    return replay ? concatBatches([batch, replay]) : batch;
  }

  loss(ctx: LossContext): tf.Scalar {
    return aceLoss(ctx.logits, ctx.batch.y, this.incoming?.y.length ?? ctx.batch.y.length);
  }

  afterBatch(ctx: AfterBatchContext): void {
    this.buffer.add(this.incoming ?? ctx.batch, this.experiences);
    this.incoming = undefined;
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
    this.experiences = restoreMemory(state, 'er-ace', this.buffer, this.draw);
  }
}

/** Registration of `er-ace`. */
export const erAceDescriptors: ComponentDescriptor[] = [
  {
    role: 'strategy',
    kind: 'er-ace',
    classesOnly: 'its asymmetric cross-entropy masks classes',
    description:
      "ER-ACE (Caccia et al. 2022): replay, with the incoming batch's cross-entropy over its own classes only (asymmetric cross-entropy).",
    options: ErAceOptions,
    create: (o, services) => new ErAceStrategy(o as Static<typeof ErAceOptions>, services),
  },
];
