import * as tf from '@tensorflow/tfjs';

/** The gradient and weight controls of a run (`training.clipNorm`/`clipValue`, `optimizer.weightDecay`). */
export interface GradientControlSettings {
  /** Global-norm bound (`training.clipNorm`). */
  readonly clipNorm?: number;
  /** Element bound (`training.clipValue`). */
  readonly clipValue?: number;
  /** L2 coefficient added to the gradient (`optimizer.weightDecay` of a coupled optimizer). */
  readonly l2?: number;
  /** Decoupled decay coefficient (`adamw`'s `weightDecay`). */
  readonly decoupled?: number;
}

/** True when any control changes gradients or weights (the plain step skips all of this otherwise). */
export function controlsActive(s: GradientControlSettings): boolean {
  return (s.clipNorm ?? 0) > 0 || (s.clipValue ?? 0) > 0 || (s.l2 ?? 0) > 0 || (s.decoupled ?? 0) > 0;
}

/**
 * The L2 norm of all `grads` together (one read-back). For tests and diagnostics.
 */
export function globalNorm(grads: ReadonlyArray<tf.Tensor>): number {
  return tf.tidy(() => Math.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g)))).dataSync()[0] ?? NaN));
}

/**
 * Applies clipping (global norm, then value) and L2 decay to `grads` (aligned with `variables`, taken
 * before any update): returns new tensors — the caller disposes them — or the inputs when nothing
 * applies. Clipping by norm scales every gradient by `min(1, clipNorm / (norm + 1e-6))` (torch's
 * `clip_grad_norm_`) without a read-back; L2 adds `l2 · θ` after clipping, as torch's `weight_decay`.
 */
export function controlGradients(
  grads: ReadonlyArray<tf.Tensor>,
  variables: ReadonlyArray<tf.Variable>,
  s: GradientControlSettings,
): tf.Tensor[] {
  return tf.tidy(() => {
    let out: tf.Tensor[] = [...grads];
    if ((s.clipNorm ?? 0) > 0 && out.length > 0) {
      const norm = tf.sqrt(tf.addN(out.map((g) => tf.sum(tf.square(g)))));
      const factor = tf.minimum(1, tf.div(s.clipNorm as number, tf.add(norm, 1e-6)));
      out = out.map((g) => tf.mul(g, factor));
    }
    if ((s.clipValue ?? 0) > 0)
      out = out.map((g) => tf.clipByValue(g, -(s.clipValue as number), s.clipValue as number));
    if ((s.l2 ?? 0) > 0) {
      out = out.map((g, i) => {
        const v = variables[i];
        return v ? tf.add(g, tf.mul(v, s.l2 as number)) : g;
      });
    }
    return out;
  });
}

/**
 * Decoupled weight decay: `θ ← θ · (1 − lr · decay)` for every variable, before the optimizer's update
 * (torch's AdamW order). Runs outside the optimizer, so the native and stock updates see the same θ.
 */
export function decayWeights(variables: ReadonlyArray<tf.Variable>, learningRate: number, decay: number): void {
  const factor = 1 - learningRate * decay;
  for (const v of variables) tf.tidy(() => v.assign(tf.mul(v, factor)));
}
