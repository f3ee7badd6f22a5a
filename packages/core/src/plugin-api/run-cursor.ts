/** Where a run is: enough to resume a pass at the next batch. Written only through {@link RunPosition}. */
export interface RunCursor {
  /** Index of the experience being trained (stream mode: boundary count). */
  readonly experience: number;
  /** Epoch within it. */
  readonly epoch: number;
  /** Batches of this epoch already trained. */
  readonly batch: number;
  /** Optimizer steps since the run started. */
  readonly step: number;
  /** Records of the data trained on since the run started (what `training.maxSamples` counts). */
  readonly samples: number;
  /** Replayed rows trained on besides them (rows a strategy's `transformBatch` added). */
  readonly replayed: number;
  /**
   * True once experience `experience` has ended (its `afterExperience`, evaluation and checkpoint
   * are done): a resume from here starts the next experience. False inside it (a resume continues at
   * `epoch`/`batch`). A fresh finite run starts at experience -1, done: nothing has started.
   */
  readonly experienceDone: boolean;
}
