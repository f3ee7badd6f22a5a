import * as tf from '@tensorflow/tfjs';
import {
  regressionLoss,
  Type,
  type AfterBatchContext,
  type Batch,
  type ComponentDescriptor,
  type ComponentServices,
  type JsonValue,
  type LossContext,
  type Rng,
  type SerializedState,
  type Static,
  type Strategy,
} from '@engram/core';
import { metaObject } from '../common/tensor-state.js';
import { ReplayBuffer } from './replay-buffer.js';

/** Options of `derpp`. */
export const DerppOptions = Type.Object(
  {
    bufferSize: Type.Integer({
      minimum: 1,
      default: 1000,
      description: 'Samples the reservoir memory holds (with their logits).',
    }),
    alpha: Type.Number({
      minimum: 0,
      default: 0.3,
      description: 'Weight of the logit-replay term (MSE to the stored logits).',
    }),
    beta: Type.Number({
      minimum: 0,
      default: 0.5,
      description: 'Weight of the label-replay term (cross-entropy on memory labels); 0 gives plain DER.',
    }),
    replayBatchSize: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Memory samples per term and step (default: the training batch size).' }),
    ),
  },
  { additionalProperties: false },
);

/** Key of the stored logits in `Batch.extras`. */
export const DERPP_LOGITS = 'derpp.logits';

/** Key of each stored row's logit width in `Batch.extras` (the head's width when the row was stored). */
export const DERPP_WIDTH = 'derpp.width';

/**
 * Dark Experience Replay++ (Buzzega, Boschini, Porrello, Abati & Calderara 2020, "Dark Experience for
 * General Continual Learning: a Strong, Simple Baseline", NeurIPS).
 *
 * - `transformBatch` keeps the incoming batch and draws two independent memory batches.
 * - `penalty` returns α · MSE(f(x′), z′) + β · CE(f(x″), y″) on them, and keeps the current batch's
 *   logits z.
 * - `afterBatch` offers the incoming samples with their logits (`extras['derpp.logits']`) to a
 *   reservoir memory.
 *
 * With a growing head (`grow-head`), a row stored before the head grew has fewer logits than the model
 * now outputs: its MSE covers only the classes it has logits for (the new classes' columns are masked
 * out, as X-DER leaves future-class logits free), instead of forcing them towards a padded zero.
 */
export class DerppStrategy implements Strategy {
  readonly name = 'derpp';
  readonly buffer: ReplayBuffer;
  private readonly draw: Rng;
  private incoming: Batch | undefined;
  private logitsDraw: Batch | undefined;
  private labelsDraw: Batch | undefined;
  private currentLogits: tf.Tensor | undefined;

  constructor(
    private readonly options: Static<typeof DerppOptions>,
    services: ComponentServices,
  ) {
    this.buffer = new ReplayBuffer(options.bufferSize, 'reservoir', services.rng.derive('buffer'));
    this.draw = services.rng.derive('draw');
  }

  transformBatch(batch: Batch): Batch {
    this.incoming = batch;
    const k = this.options.replayBatchSize ?? batch.y.length;
    this.logitsDraw = this.options.alpha > 0 ? this.buffer.sample(k, this.draw) : undefined;
    this.labelsDraw = this.options.beta > 0 ? this.buffer.sample(k, this.draw) : undefined;
    return batch;
  }

  penalty(ctx: LossContext): tf.Scalar | void {
    this.currentLogits?.dispose();
    this.currentLogits = tf.keep(tf.clone(ctx.logits));
    let total: tf.Scalar | undefined;
    const forward = (b: Batch): tf.Tensor =>
      ctx.model.forward(tf.tensor(b.x, [b.y.length, ...b.sampleShape], 'float32'), {
        training: true,
        ...(b.task ? { task: b.task } : {}),
      });
    const stored = this.logitsDraw?.extras?.[DERPP_LOGITS];
    if (this.logitsDraw && stored) {
      const out = forward(this.logitsDraw) as tf.Tensor2D;
      const widths = this.logitsDraw.extras?.[DERPP_WIDTH]?.values;
      total = tf.mul<tf.Scalar>(logitDistance(out, stored, widths), this.options.alpha);
    }
    const values = this.labelsDraw?.targetValues;
    if (this.labelsDraw && values) {
      // Regression: the β term is the squared error of the replayed rows' outputs against their targets.
      const out = forward(this.labelsDraw) as tf.Tensor2D;
      const t = tf.tensor2d(values, [this.labelsDraw.y.length, values.length / this.labelsDraw.y.length]);
      const mse = tf.mul<tf.Scalar>(regressionLoss(out, t, 'mse'), this.options.beta);
      total = total ? tf.add<tf.Scalar>(total, mse) : mse;
    } else if (this.labelsDraw) {
      const out = forward(this.labelsDraw) as tf.Tensor2D;
      const oneHot = tf.oneHot(tf.tensor1d(this.labelsDraw.y, 'int32'), out.shape[1]);
      const ce = tf.mul<tf.Scalar>(tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(out)), 1))), this.options.beta);
      total = total ? tf.add<tf.Scalar>(total, ce) : ce;
    }
    return total;
  }

  afterBatch(ctx: AfterBatchContext): void {
    const batch = this.incoming ?? ctx.batch;
    const logits = this.currentLogits;
    this.currentLogits = undefined;
    this.incoming = undefined;
    if (!logits || logits.shape[0] !== batch.y.length) {
      logits?.dispose();
      return;
    }
    const width = logits.shape[1] as number;
    const values = Float32Array.from(logits.dataSync() as Float32Array);
    logits.dispose();
    const widths = new Float32Array(batch.y.length).fill(width);
    this.buffer.add(
      {
        ...batch,
        extras: {
          ...(batch.extras ?? {}),
          [DERPP_LOGITS]: { width, values },
          [DERPP_WIDTH]: { width: 1, values: widths },
        },
      },
      ctx.experience.index,
    );
  }

  /** The memory's rows (copies), for serving's promotion gates (`Strategy.memory`). */
  memory(): Batch | undefined {
    return this.buffer.all();
  }

  state(): SerializedState {
    const b = this.buffer.state();
    return { meta: { buffer: b.meta ?? null, draw: this.draw.state() }, arrays: b.arrays ?? {} };
  }

  restore(state: SerializedState): void {
    const meta = metaObject(state.meta, 'derpp');
    this.buffer.restore({ meta: (meta['buffer'] ?? null) as JsonValue, arrays: state.arrays ?? {} });
    this.draw.restore(meta['draw'] as number[]);
  }

  dispose(): void {
    this.currentLogits?.dispose();
    this.currentLogits = undefined;
  }
}

/**
 * Mean squared distance between the model's `out` `[n, C]` and the stored logits (`[n, W]`, each row
 * zero-padded past its own width `widths[i]`; all W when absent), over the columns each row has (and
 * the model still outputs). Equal to `mean((out − z)²)` when every width is C. Called inside the tape.
 */
function logitDistance(
  out: tf.Tensor2D,
  stored: { width: number; values: Float32Array },
  widths: Float32Array | undefined,
): tf.Scalar {
  const [n, c] = out.shape;
  const z = tf.tensor2d(stored.values, [n, stored.width]);
  if (c === stored.width && (widths === undefined || widths.every((w) => w === c)))
    return tf.mean(tf.square(tf.sub(out, z)));
  const w = Math.min(c, stored.width);
  const mask = new Float32Array(n * w);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const own = Math.min(w, widths?.[i] ?? stored.width);
    mask.fill(1, i * w, i * w + own);
    count += own;
  }
  const diff = tf.sub(tf.slice(out, [0, 0], [n, w]), tf.slice(z, [0, 0], [n, w]));
  return tf.div(tf.sum(tf.mul(tf.square(diff), tf.tensor2d(mask, [n, w]))), Math.max(1, count));
}

/** Registration of `derpp`. */
export const derppDescriptors: ComponentDescriptor[] = [
  {
    role: 'strategy',
    kind: 'derpp',
    description:
      'DER++ (Buzzega et al. 2020): replays stored logits (MSE, alpha) and labels (cross-entropy, beta) from a reservoir.',
    options: DerppOptions,
    create: (o, services) => new DerppStrategy(o as Static<typeof DerppOptions>, services),
  },
];
