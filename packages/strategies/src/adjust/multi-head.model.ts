import * as tf from '@tensorflow/tfjs';
import { LayersEngramModel, type ForwardOptions } from '@engram/core';
import type { LogitMapper } from '../common/head-logits.js';

/** Value written into the logits of classes outside a sample's task. */
export const MASKED_LOGIT = -1e9;

/**
 * A task-incremental wrapper around a single-head network: `forward` scores only the classes of each
 * sample's task (`ForwardOptions.task`), replacing the other logits by {@link MASKED_LOGIT}, so the
 * softmax, the loss and the argmax are over the task's classes. Samples without a task label, or with a
 * task it does not know, are scored over all classes. Shares the network's variables.
 */
export class MultiHeadModel extends LayersEngramModel implements LogitMapper {
  private readonly classesOf = new Map<number, readonly number[]>();
  /** Scores depend on each sample's task label. */
  readonly takesTask = true;

  /** Sets the classes scored for `task`. */
  setTaskClasses(task: number, classes: readonly number[]): void {
    this.classesOf.set(
      task,
      [...classes].sort((a, b) => a - b),
    );
  }

  /** The classes scored for `task`, if known. */
  taskClasses(task: number): readonly number[] | undefined {
    return this.classesOf.get(task);
  }

  /** Every task → classes entry. */
  mapping(): Array<[number, number[]]> {
    return [...this.classesOf.entries()].map(([t, c]) => [t, [...c]]);
  }

  mapLogits(logits: tf.Tensor, options: ForwardOptions): tf.Tensor {
    const task = options.task;
    if (!task) return logits;
    const n = logits.shape[0];
    const c = logits.shape[1] as number;
    const keep = new Uint8Array(n * c);
    for (let i = 0; i < n; i++) {
      const classes = this.classesOf.get(task[i] as number);
      if (!classes) keep.fill(1, i * c, (i + 1) * c);
      else for (const k of classes) if (k < c) keep[i * c + k] = 1;
    }
    return tf.tidy(() => tf.where(tf.tensor2d(keep, [n, c], 'bool'), logits, tf.fill([n, c], MASKED_LOGIT)));
  }

  override forward(x: tf.Tensor, options: ForwardOptions): tf.Tensor {
    return this.mapLogits(super.forward(x, options), options);
  }
}
