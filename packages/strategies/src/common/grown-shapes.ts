import * as tf from '@tensorflow/tfjs';

/** True when both shapes have the same rank and sizes. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * True when `now` has the rank of `before` and is at least as large along every axis: the shape of a
 * variable that grew since a snapshot of it was taken (a head widened by `grow-head`: kernel
 * `[in, k]` → `[in, k']`, bias `[k]` → `[k']`). The snapshot is then the leading block of the variable.
 */
export function grewFrom(before: readonly number[], now: readonly number[]): boolean {
  return before.length === now.length && before.every((d, i) => d <= (now[i] ?? 0));
}

/**
 * `current` with its leading block (the shape of `old`) replaced by `old`: an old snapshot of a variable
 * that grew since, put back where it was, the grown part left as it is now. A new tensor.
 */
export function embedLeading(old: tf.Tensor, current: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const padding = old.shape.map((d, i) => [0, (current.shape[i] ?? d) - d] as [number, number]);
    const inside = tf.pad(tf.onesLike(old), padding);
    return tf.add(tf.pad(old, padding), tf.mul(current, tf.sub(1, inside)));
  });
}
