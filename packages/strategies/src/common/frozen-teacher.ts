import * as tf from '@tensorflow/tfjs';
import type { Batch, EngramModel, StateArray, SurgeryLineage } from '@engram/core';
import { embedLeading, grewFrom, sameShape } from './grown-shapes.js';
import { unmaskedLogits } from './head-logits.js';
import { followSurgery } from './surgery-follow.js';
import {
  arraysToStore,
  disposeStore,
  snapshotVariables,
  storeToArrays,
  variableKey,
  type TensorStore,
} from './tensor-state.js';

/** Teacher logits of a batch, row-major `[n, width]` (width = the student's outputs). */
export interface TeacherLogits {
  readonly width: number;
  readonly values: Float32Array;
}

/**
 * A frozen copy of a model's weights (the "old model" of LwF and iCaRL), evaluated by swapping its
 * values into the live model's variables, so no second network is built. A head that grew since the
 * freeze (`grow-head`) gets the teacher's own columns back; `width` says how many outputs the teacher had.
 */
export class FrozenTeacher {
  private store: TensorStore = new Map();
  /** Outputs of the network when the teacher was frozen (0: no teacher yet). */
  width = 0;

  get frozen(): boolean {
    return this.store.size > 0 && this.width > 0;
  }

  /** Copies the current weights (called at the end of an experience). */
  freeze(model: EngramModel): void {
    disposeStore(this.store);
    this.store = snapshotVariables(model.trainableVariables());
    this.width = model.outputs();
  }

  /**
   * The teacher's unmasked logits on `batch` (inference mode, outside any tape): the teacher's weights
   * are swapped into `model`, which is restored before returning. Columns past {@link width} belong to
   * the grown student, not to the teacher.
   */
  logits(model: EngramModel, batch: Batch): TeacherLogits {
    const vars = model.trainableVariables();
    const saved: tf.Tensor[] = [];
    const swapped: tf.Variable[] = [];
    for (const [i, v] of vars.entries()) {
      const t = this.store.get(variableKey(i));
      if (!t || !(sameShape(t.shape, v.shape) || grewFrom(t.shape, v.shape))) continue;
      saved.push(tf.clone(v));
      swapped.push(v);
      const value = sameShape(t.shape, v.shape) ? t : embedLeading(t, v);
      v.assign(value);
      if (value !== t) value.dispose();
    }
    try {
      const logits = tf.tidy(() => {
        const x = tf.tensor(batch.x, [batch.y.length, ...batch.sampleShape], 'float32');
        return unmaskedLogits(model, x, { training: false, ...(batch.task ? { task: batch.task } : {}) });
      });
      const width = logits.shape[1] as number;
      const values = Float32Array.from(logits.dataSync() as Float32Array);
      logits.dispose();
      return { width, values };
    } finally {
      swapped.forEach((v, i) => v.assign(saved[i] as tf.Tensor));
      for (const s of saved) s.dispose();
    }
  }

  /** Re-keys the frozen weights to the model a surgery produced (see `followSurgery`); no-op before a freeze. */
  follow(lineage: SurgeryLineage): void {
    if (this.store.size > 0) this.store = followSurgery(this.store, lineage, 'weights', true);
  }

  /** Writes the weights under `prefix` into checkpoint arrays. */
  toArrays(prefix: string, arrays: Record<string, StateArray>): void {
    storeToArrays(prefix, this.store, arrays);
  }

  /** Reads back what {@link toArrays} wrote, with the width from the strategy's meta. */
  fromArrays(prefix: string, arrays: Readonly<Record<string, StateArray>> | undefined, width: number): void {
    disposeStore(this.store);
    this.store = arraysToStore(prefix, arrays);
    this.width = width;
  }

  dispose(): void {
    disposeStore(this.store);
  }
}
