import type { ComponentRef } from '../plugin/component-factory.js';
import type { ModelSpec } from './model.schema.js';
import type { OptimizerSpec } from './optimizer.schema.js';
import type { ServeSettings } from './serve.schema.js';
import type {
  CheckpointSettings,
  EvaluationSettings,
  OutputSettings,
  TrainingSettings,
} from './run-settings.schema.js';

import type { BackendName } from '../plugin-api/backend-report.js';

export type { BackendName } from '../plugin-api/backend-report.js';

/** A validated pipeline document with every default filled in. */
export interface PipelineDefinition {
  readonly $schema?: string;
  readonly name: string;
  readonly description?: string;
  /** An earlier run (folder or checkpoint) this new run starts from, relative to the pipeline file (`--from` wins). */
  readonly continueFrom?: string;
  /** What the model predicts; absent = classification. */
  readonly task?: 'classification' | 'regression';
  readonly seed: number;
  readonly backend: BackendName;
  readonly plugins: readonly string[];
  readonly data: ComponentRef;
  readonly preprocess: readonly ComponentRef[];
  readonly model: ModelSpec;
  readonly adjust: readonly ComponentRef[];
  readonly optimizer: OptimizerSpec;
  readonly strategy: ComponentRef | readonly ComponentRef[];
  readonly boundary?: ComponentRef;
  readonly loggers: readonly ComponentRef[];
  /** Extra stages contributed by plugins, with their `after` / `before` positions. */
  readonly stages: readonly ComponentRef[];
  readonly training: TrainingSettings;
  readonly evaluation: EvaluationSettings;
  readonly checkpoint: CheckpointSettings;
  readonly output: OutputSettings;
  /** HTTP serving of the live model (`engram run`); absent: no server unless `--serve` is given. */
  readonly serve?: ServeSettings;
}
