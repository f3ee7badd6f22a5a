import type { PipelineDefinition } from '../pipeline/pipeline-definition.js';
import type { CheckpointReason } from '../plugin-api/checkpointable.js';

// The types of a checkpoint's `run.json` and of the metric history it points into: shared by the
// codec (run-snapshot.ts), its schema (run-json.schema.ts) and the format-1 upgrade (checkpoint-v1.ts)
// without any of them importing another.

/** A position in the run's `metrics.jsonl`: its length in bytes and the `seq` of its last event. */
export interface MetricsMark {
  readonly bytes: number;
  readonly seq: number;
  /** sha256 (hex) of those bytes: a history edited since is detected (absent in older checkpoints). */
  readonly sha256?: string;
}

/** The run's metric history on disk (the run recorder): checkpoints point into it instead of copying it. */
export interface MetricsLog {
  /** Makes every event recorded so far durable in `metrics.jsonl`; returns how much of it that is. */
  flush(): Promise<MetricsMark>;
}

/** Content of `run.json` (format 2): why and where in the history a checkpoint was written, and for which pipeline. */
export interface RunJson {
  readonly reason: CheckpointReason;
  /** The metric history this checkpoint belongs to: the first `bytes` of `metrics.jsonl`. */
  readonly metrics?: MetricsMark;
  /** Wall-clock seconds of the run up to the checkpoint, over every segment. */
  readonly wallSeconds?: number;
  readonly pipeline: PipelineDefinition;
  /**
   * The `--set` flags the run was started with, in order, secrets redacted (see engine/resume-overrides.ts);
   * absent in checkpoints written before they were recorded.
   */
  readonly overrides?: readonly RecordedOverride[];
}

/** One `--set` flag as `run.json` records it: its JSON pointer, its parsed value and the flag as typed. */
export interface RecordedOverride {
  readonly pointer: string;
  readonly value: unknown;
  readonly text: string;
}
