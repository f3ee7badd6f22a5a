import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { checkpointDirs, locateCheckpoints, openNewestValid, readCheckpoint } from '../checkpoint/checkpoint-model.js';
import { CorruptCheckpointError } from '../checkpoint/checkpoint.store.js';
import { readHistory } from '../checkpoint/history-check.js';
import { decodeCheckpoint, type RunJson } from '../checkpoint/run-snapshot.js';
import type { EngramEvent } from '../events/engram-event.js';
import type { PipelineDefinition } from '../pipeline/pipeline-definition.js';
import type { SerializedState } from '../plugin-api/serialized-state.js';
import { ResumeError } from './resume.js';
import type { LineageEntry } from './run-lineage.js';
import type { RunCursor } from '../run/run-state.js';

/** The earlier run a new run continues (`--from`): its newest valid checkpoint, decoded, and its past. */
export interface ContinuePoint {
  /** The checkpoint directory. */
  readonly dir: string;
  readonly step: number;
  readonly run: RunJson;
  /** Every registered part's state of the earlier run, by its JSON pointer there. */
  readonly states: ReadonlyMap<string, SerializedState>;
  readonly model: tf.io.ModelArtifacts;
  /** The earlier run's metric history up to the checkpoint (empty when its metrics.jsonl is gone). */
  readonly events: EngramEvent[];
  /** The chain of runs whose test sets the new run also evaluates on, oldest first, the earlier run last. */
  readonly lineage: LineageEntry[];
  /** Index of the first experience after the earlier run's. */
  readonly nextExperience: number;
}

function storedPipeline(files: ReadonlyMap<string, Uint8Array>, dir: string): PipelineDefinition {
  const text = files.get('run.json');
  try {
    const pipeline = (JSON.parse(new TextDecoder().decode(text)) as { pipeline?: unknown }).pipeline;
    if (typeof pipeline === 'object' && pipeline !== null) return pipeline as PipelineDefinition;
  } catch {
    // reported below
  }
  throw new CorruptCheckpointError(`${dir}: run.json has no pipeline`);
}

/**
 * Finds and decodes the newest valid checkpoint of an earlier run at `path` (a run folder, its
 * `checkpoints` folder or one checkpoint folder), with its metric history. A corrupt checkpoint is
 * reported through `warn` and the previous one is used; a run folder without checkpoints, or with only
 * corrupt ones, is a {@link ResumeError} (the CLI exits 2). A missing `metrics.jsonl` is said once and
 * the new run's accuracy matrix then starts with its own experiences.
 */
export async function loadContinuePoint(path: string, warn: (message: string) => void): Promise<ContinuePoint> {
  const where = locateCheckpoints(resolve(path));
  const metrics = join(where.runDir, 'metrics.jsonl');
  const dirs = await checkpointDirs(where);
  if (dirs.length === 0)
    throw new ResumeError(
      `cannot continue from ${path}: it holds no checkpoint (the earlier run needs "checkpoint": { "enabled": true })`,
    );
  const haveHistory = existsSync(metrics);
  if (!haveHistory)
    warn(
      `continuing from ${path} without its metric history (${metrics} is missing): the accuracy matrix starts with this run's experiences`,
    );
  const open = async (dir: string): Promise<ContinuePoint> => {
    const checkpoint = await readCheckpoint(dir);
    const decoded = decodeCheckpoint(checkpoint.files, checkpoint.format, dir, storedPipeline(checkpoint.files, dir));
    const events = haveHistory ? await readHistory(metrics, decoded.run.metrics, dir) : [];
    const cursor = (decoded.states.get('/run/cursor')?.meta as { cursor?: RunCursor } | undefined)?.cursor;
    if (!cursor) throw new CorruptCheckpointError(`${dir}: it has no state for /run/cursor`);
    const pipeline = decoded.run.pipeline;
    const stored = (decoded.states.get('/run/lineage')?.meta as { runs?: LineageEntry[] } | null | undefined)?.runs;
    // A checkpoint written before lineages existed: its own run, relative paths resolved from the working directory.
    const lineage =
      stored && stored.length > 0 ? stored : [{ name: pipeline.name, pipeline, baseDir: process.cwd(), offset: 0 }];
    if (!cursor.experienceDone && decoded.run.reason !== 'end') {
      warn(
        `the earlier run stopped inside experience ${cursor.experience} (${dir}); this run starts after it — resume ` +
          `the earlier run first to finish that experience`,
      );
    }
    return {
      dir,
      step: checkpoint.step,
      run: decoded.run,
      states: decoded.states,
      model: decoded.model,
      events,
      lineage,
      nextExperience: cursor.experience + 1,
    };
  };
  return openNewestValid(
    dirs,
    open,
    warn,
    (n) => new ResumeError(`cannot continue from ${path}: all ${n} checkpoint(s) are corrupt`),
  );
}
