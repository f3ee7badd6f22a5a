import type { StreamInfo } from '@engram/core';

/** What the server needs to know about the data a model was trained on. */
export interface ServedData {
  /** Shape of one raw instance (before preprocessing): a /predict instance holds prod(inputShape) numbers. */
  readonly inputShape: readonly number[];
  readonly numClasses: number;
  /** Class names by index, when the data names them. */
  readonly classNames?: readonly string[];
  /** Number of tasks when the data has task labels (a multi-head model takes one per instance). */
  readonly tasks?: number;
  /** A regression run: /predict answers the model's output values, not classes (numClasses = outputs). */
  readonly regression?: boolean;
}

/** Values per raw instance. */
export function instanceLength(data: ServedData): number {
  return data.inputShape.reduce((a, b) => a * b, 1);
}

/** What a server needs of a run's data description (`run-start`'s stream info). */
export function servedData(info: StreamInfo): ServedData {
  return {
    inputShape: info.inputShape,
    numClasses: info.numClasses,
    ...(info.classNames ? { classNames: info.classNames } : {}),
    ...(info.tasks !== undefined ? { tasks: info.tasks } : {}),
    ...(info.regression ? { regression: true } : {}),
  };
}
