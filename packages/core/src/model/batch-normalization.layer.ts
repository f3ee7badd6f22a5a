import * as tf from '@tensorflow/tfjs';
import { batchNormTraining } from './batch-norm-training.js';

/** Options of {@link EngramBatchNormalization}: tfjs-layers' `batchNormalization` options. */
export type BatchNormalizationArgs = NonNullable<Parameters<typeof tf.layers.batchNormalization>[0]>;

type TfjsBatchNormalization = ReturnType<typeof tf.layers.batchNormalization>;
type Kwargs = Parameters<TfjsBatchNormalization['call']>[1];
/** tfjs-layers' BatchNormalization class: its constructor and a layer class's statics. */
type TfjsBatchNormalizationClass = (new (args?: BatchNormalizationArgs) => TfjsBatchNormalization) &
  Omit<typeof tf.layers.Layer, 'prototype'>;

/** The fields tfjs-layers' BatchNormalization keeps (private in its typings; pinned tfjs 4.22). */
interface BatchNormState {
  readonly axis: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly gamma?: tf.LayerVariable;
  readonly beta?: tf.LayerVariable;
  readonly movingMean?: tf.LayerVariable;
  readonly movingVariance?: tf.LayerVariable;
}

/** Marks the class below, so a second copy of this module extends tfjs' class, not the first copy's. */
const ENGRAM_BATCH_NORM = Symbol.for('engram:batch-normalization');

/**
 * tfjs-layers' own BatchNormalization class, as its serialisation map holds it (constructing one to
 * find it would take an auto-generated layer name).
 */
function tfjsBatchNormalizationClass(): TfjsBatchNormalizationClass {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap['BatchNormalization'];
  if (!entry) throw new Error('tfjs-layers has not registered BatchNormalization');
  let cls = entry[0] as unknown as TfjsBatchNormalizationClass & { [ENGRAM_BATCH_NORM]?: true };
  while (cls[ENGRAM_BATCH_NORM] === true) cls = Object.getPrototypeOf(cls) as typeof cls;
  return cls;
}

/** `moving ← moving − (moving − value)·(1 − momentum)`, tfjs-layers' `doMovingAverage` op for op. */
function movingAverage(variable: tf.LayerVariable, value: tf.Tensor, momentum: number): void {
  tf.tidy(() => {
    const decay = 1 - momentum;
    const orig = variable.read();
    variable.write(tf.sub(orig, tf.mul(tf.sub(orig, value), decay)));
  });
}

/**
 * tfjs-layers' BatchNormalization whose training pass is ONE differentiable op
 * ({@link batchNormTraining}: hand-written gradient, fused kernels where the backend has them) instead
 * of `tf.moments` + FusedBatchNorm and autodiff's chain of small kernels through them. It is used when
 * training, normalising over every axis but the last (`axis` −1 or rank − 1), with `center` and
 * `scale` on and a float32 input; the moving mean and variance are then updated exactly as tfjs-layers
 * updates them. Inference and every other configuration run tfjs-layers' own `call`.
 *
 * Its className stays `BatchNormalization` and it keeps tfjs-layers' weights and config, so model.json,
 * checkpoints, `--from`/`--resume` and ONNX export see the stock layer. Registered under that
 * className when core loads, so `tf.loadLayersModel` (checkpoints, `load` paths) builds this class.
 * Built by the model builder (`batchNormalization`) and by the ONNX importer.
 */
export class EngramBatchNormalization extends tfjsBatchNormalizationClass() {
  static readonly [ENGRAM_BATCH_NORM] = true;
  /** Same className as tfjs-layers' layer: the serialised form does not change. */
  static readonly className = 'BatchNormalization';
  /**
   * Whether a training pass may take the fused op (default true); false runs tfjs-layers' own
   * composition (to compare the two). Not serialised.
   */
  fusedTraining = true;

  constructor(args?: BatchNormalizationArgs) {
    super(args);
  }

  /** Whether a training call on `x` takes the fused op. */
  private fusedFor(x: tf.Tensor): boolean {
    const s = this as unknown as BatchNormState;
    const axis = s.axis >= 0 ? s.axis : s.axis + x.rank;
    return (
      this.fusedTraining &&
      x.rank >= 2 &&
      axis === x.rank - 1 &&
      s.center &&
      s.scale &&
      x.dtype === 'float32' &&
      s.gamma?.dtype === 'float32' &&
      s.beta?.dtype === 'float32' &&
      s.movingMean !== undefined &&
      s.movingVariance !== undefined
    );
  }

  /**
   * Called by `apply` on concrete tensors. In training (`kwargs.training`) on the fused path: returns
   * the normalised batch and writes the moving mean and variance; otherwise tfjs-layers' own call.
   */
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const x = Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0] : undefined) : inputs;
    const training = kwargs['training'] as unknown;
    if (training !== true || !x || !this.fusedFor(x)) return super.call(inputs, kwargs);
    const s = this as unknown as Required<BatchNormState>;
    return tf.tidy(() => {
      const gamma = s.gamma.read() as tf.Tensor1D;
      const beta = s.beta.read() as tf.Tensor1D;
      const { y, mean, variance } = batchNormTraining(x, gamma, beta, s.epsilon);
      movingAverage(s.movingMean, mean, s.momentum);
      movingAverage(s.movingVariance, variance, s.momentum);
      return y;
    });
  }
}

tf.serialization.registerClass(EngramBatchNormalization);
