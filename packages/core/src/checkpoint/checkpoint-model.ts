import { existsSync } from 'node:fs';
import { writeFileAtomic } from '../output/atomic-file.js';
import { ensureDir } from '../output/safe-dir.js';
import { basename, dirname, join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { CheckpointStore, CorruptCheckpointError } from './checkpoint.store.js';
import { layersModelFiles, modelArtifactsOf } from './run-snapshot.js';

/** A verified checkpoint: its directory, format and file contents. */
export interface VerifiedCheckpoint {
  readonly dir: string;
  readonly step: number;
  /** Checkpoint format of its manifest (1 or 2). */
  readonly format: number;
  readonly files: Map<string, Uint8Array>;
}

/** Reads and verifies one checkpoint directory (sha256 of every file). */
export async function readCheckpoint(dir: string): Promise<VerifiedCheckpoint> {
  const { manifest, files } = await CheckpointStore.read(dir);
  return { dir, step: manifest.step, format: manifest.format, files };
}

/**
 * The one "newest valid checkpoint" loop (used by `--resume`, `--from`, `engram eval` and `engram
 * export`): opens `dirs` newest first with `open`; one that throws {@link CorruptCheckpointError} is
 * reported through `warn` and the previous one is tried. Other errors propagate. Undefined when none opens.
 */
export async function newestValid<T>(
  dirs: readonly string[],
  open: (dir: string) => Promise<T>,
  warn: (message: string) => void,
): Promise<T | undefined> {
  for (const dir of dirs) {
    try {
      return await open(dir);
    } catch (e) {
      if (!(e instanceof CorruptCheckpointError)) throw e;
      warn(`skipping corrupt checkpoint: ${e.message}`);
    }
  }
  return undefined;
}

/**
 * {@link newestValid}, for callers that need a checkpoint: throws `allCorrupt(dirs.length)` when none
 * of `dirs` opens. Each caller says beforehand what an empty `dirs` means (nothing to resume, an
 * error), since that differs between them.
 */
export async function openNewestValid<T>(
  dirs: readonly string[],
  open: (dir: string) => Promise<T>,
  warn: (message: string) => void,
  allCorrupt: (count: number) => Error,
): Promise<T> {
  const found = await newestValid(dirs, open, warn);
  if (found === undefined) throw allCorrupt(dirs.length);
  return found;
}

/** Where the checkpoints of a path given on the command line are. */
export interface CheckpointLocation {
  /** The checkpoints folder (for one checkpoint folder, its parent). */
  readonly root: string;
  /** The run's output folder, where its `metrics.jsonl` is. */
  readonly runDir: string;
  /** The path itself when it is one checkpoint folder (it has a `manifest.json`). */
  readonly checkpoint: string | undefined;
}

/**
 * Reads `path` as one checkpoint folder, a checkpoints folder, or a run's output folder (which uses
 * its `checkpoints` folder when it has one). Paths are built from `path` as given (resolve it first
 * for absolute ones).
 */
export function locateCheckpoints(path: string): CheckpointLocation {
  if (existsSync(join(path, 'manifest.json'))) {
    const parent = dirname(path);
    return { root: parent, runDir: basename(parent) === 'checkpoints' ? dirname(parent) : parent, checkpoint: path };
  }
  const root = existsSync(join(path, 'checkpoints')) ? join(path, 'checkpoints') : path;
  const runDir = root === path && basename(path) === 'checkpoints' ? dirname(path) : path;
  return { root, runDir, checkpoint: undefined };
}

/** The checkpoint folders of a location, newest first: the one checkpoint, or every one in its checkpoints folder. */
export function checkpointDirs(where: CheckpointLocation): Promise<string[]> {
  return where.checkpoint !== undefined
    ? Promise.resolve([where.checkpoint])
    : new CheckpointStore(where.root, Number.MAX_SAFE_INTEGER, '').list();
}

/**
 * The newest checkpoint under `path` that passes its sha256 checks. `path` may be a run's output
 * folder (uses `path/checkpoints`), a checkpoints folder, or one checkpoint directory (read as it is:
 * a corrupt one throws). Corrupt ones are reported through `warn` and skipped; throws when none is usable.
 */
export async function latestValidCheckpoint(
  path: string,
  warn: (message: string) => void,
): Promise<VerifiedCheckpoint> {
  const where = locateCheckpoints(path);
  if (where.checkpoint !== undefined) return readCheckpoint(where.checkpoint);
  const dirs = await checkpointDirs(where);
  if (dirs.length === 0) throw new CorruptCheckpointError(`no checkpoint in ${where.root}`);
  return openNewestValid(
    dirs,
    readCheckpoint,
    warn,
    (n) => new CorruptCheckpointError(`all ${n} checkpoint(s) in ${where.root} are corrupt`),
  );
}

/** The checkpoint's model as tfjs model artifacts (topology + weights). */
export function checkpointModelArtifacts(checkpoint: VerifiedCheckpoint): tf.io.ModelArtifacts {
  return modelArtifactsOf(checkpoint.files, checkpoint.dir);
}

/**
 * Writes the checkpoint's model in tfjs Layers format: `to` is a folder (gets `model.json` and
 * `weights.bin`) or a `.json` file path (its `<name>.weights.bin` goes beside it). Returns the model.json path.
 */
export async function exportCheckpointModel(checkpoint: VerifiedCheckpoint, to: string): Promise<string> {
  const file = to.endsWith('.json') ? to : join(to, 'model.json');
  const binName = to.endsWith('.json') ? `${basename(file, '.json')}.weights.bin` : 'weights.bin';
  const { json, weights } = layersModelFiles(checkpointModelArtifacts(checkpoint), binName);
  await ensureDir(dirname(file));
  await writeFileAtomic(join(dirname(file), binName), weights);
  await writeFileAtomic(file, json);
  return file;
}
