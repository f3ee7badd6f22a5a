/** Service identifiers of the run container the stages are resolved from. */
export const STAGE_TOKENS = {
  Transforms: Symbol.for('engram:stage:transforms'),
  Adjustments: Symbol.for('engram:stage:adjustments'),
  Strategies: Symbol.for('engram:stage:strategies'),
  Detector: Symbol.for('engram:stage:detector'),
  Optimizer: Symbol.for('engram:stage:optimizer'),
  RunState: Symbol.for('engram:stage:run-state'),
  CheckpointWriter: Symbol.for('engram:stage:checkpoint-writer'),
} as const;
