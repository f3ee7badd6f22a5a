import type * as tf from '@tensorflow/tfjs';

/** Options of one forward pass. */
export interface ForwardOptions {
  /** Enables dropout and batch-norm statistics updates. */
  readonly training: boolean;
  /** Task label per sample, when the scenario has them (multi-head models mask logits with it). */
  readonly task?: Int32Array;
}

/**
 * The classifier being trained: maps inputs to logits over all classes.
 *
 * Strategies and adjustments see the model through this interface and may replace it (a grown head, a
 * multi-head or Hedge wrapper) from `adaptModel`. The trainer re-reads `trainableVariables()` at every
 * experience start and carries optimizer slots over for variables that kept their name and shape.
 */
export interface EngramModel {
  /** The underlying tfjs Layers model; its first output is the logits `[batch, outputs]`. */
  readonly network: import('@tensorflow/tfjs').LayersModel;
  /**
   * True when `forward` reads `ForwardOptions.task` (a task-incremental multi-head model masks the
   * logits of other tasks' classes): a served model then needs each request's task label.
   */
  readonly takesTask?: boolean;
  /** Forward pass returning logits. Call inside a gradient tape or `tf.tidy`. */
  forward(x: tf.Tensor, options: ForwardOptions): tf.Tensor;
  /** Variables the optimizer updates (frozen layers excluded). */
  trainableVariables(): tf.Variable[];
  /** Number of output units of the classifier head. */
  outputs(): number;
  /** Frees the model's variables. Called when the model is replaced or the run ends. */
  dispose(): void;
}

/** The default {@link EngramModel}: a tfjs LayersModel whose output is the logits. */
export class LayersEngramModel implements EngramModel {
  constructor(readonly network: tf.LayersModel) {}

  forward(x: tf.Tensor, options: ForwardOptions): tf.Tensor {
    return this.network.apply(x, { training: options.training }) as tf.Tensor;
  }

  trainableVariables(): tf.Variable[] {
    return this.network.trainableWeights.map((w) => w.read() as tf.Variable);
  }

  outputs(): number {
    const shape = this.network.outputs[0]?.shape;
    const last = shape?.[shape.length - 1];
    return typeof last === 'number' ? last : 0;
  }

  dispose(): void {
    this.network.dispose();
  }
}

/**
 * Frees what a replaced model no longer shares with its replacement. A grown head or a wrapper
 * usually reuses the body's layers (tfjs counts a layer's references per symbolic call, not per
 * model, so disposing the old model would free shared layers too): only layers absent from the new
 * network are disposed.
 */
export function disposeReplacedModel(old: EngramModel, next: EngramModel): void {
  if (old.network === next.network) return;
  const kept = new Set(next.network.layers);
  for (const layer of old.network.layers) {
    if (!kept.has(layer) && layer.getClassName() !== 'InputLayer') layer.dispose();
  }
}
