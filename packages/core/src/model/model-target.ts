import * as tf from '@tensorflow/tfjs';
import { PipelineError } from '../plugin-api/pipeline-error.js';
import type { Rng } from '../random/rng.js';
import { HEAD_LAYER_NAME } from './graph-check.js';
import { MAX_MODEL_PARAMETERS } from './model-limits.js';

/** What the model is built for. */
export interface ModelTarget {
  /** Sample shape after preprocessing. */
  readonly inputShape: readonly number[];
  /** Output units of the head (default: the stream's classes). */
  readonly outputs: number;
  /** Weight initialisers draw their seeds from it. */
  readonly rng: Rng;
  /** Dropout layers draw their masks from it (the run's `RunContext.dropout`); default `rng.derive('dropout')`. */
  readonly dropout?: Rng;
  /** Folder `load` paths are relative to. */
  readonly baseDir: string;
}

/** `[d1, d2, …]` of a batched shape, without the batch axis. */
export function shapeText(shape: ReadonlyArray<number | null>): string {
  return `[${shape.slice(1).join(', ')}]`;
}

/**
 * Counts parameters as layers are added and refuses, at the layer's pointer, a model over
 * {@link MAX_MODEL_PARAMETERS} — before tfjs allocates the weights. `release` frees what was built.
 */
export class ParameterBudget {
  private parameters = 0;
  constructor(private readonly release: () => void) {}

  /** Adds `more` parameters counted for the layer at `path`. */
  add(more: number, path: string): void {
    this.parameters += more;
    if (this.parameters > MAX_MODEL_PARAMETERS) {
      this.release();
      throw PipelineError.at(
        path,
        `the model would have ${this.parameters.toLocaleString('en')} parameters or more, over the limit of ${MAX_MODEL_PARAMETERS.toLocaleString('en')}`,
      );
    }
  }
}

/** The dense classifier head Engram appends, seeded from `rng`. */
export function headLayer(units: number, rng: Rng): tf.layers.Layer {
  return tf.layers.dense({
    name: HEAD_LAYER_NAME,
    units,
    kernelInitializer: tf.initializers.glorotUniform({ seed: rng.tfSeed() }),
  });
}
