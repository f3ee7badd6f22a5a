import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CheckpointStore, CorruptCheckpointError } from './checkpoint.store.js';
import { ensureDir } from '../output/safe-dir.js';

/** A verified checkpoint: its directory and file contents. */
export interface VerifiedCheckpoint {
  readonly dir: string;
  readonly step: number;
  readonly files: Map<string, Uint8Array>;
}

/**
 * The newest checkpoint under `path` that passes its sha256 checks. `path` may be a run's output
 * folder (uses `path/checkpoints`), a checkpoints folder, or one checkpoint directory. Corrupt ones
 * are reported through `warn` and skipped; throws when none is usable.
 */
export async function latestValidCheckpoint(path: string, warn: (message: string) => void): Promise<VerifiedCheckpoint> {
  if (existsSync(join(path, 'manifest.json'))) {
    const { manifest, files } = await CheckpointStore.read(path);
    return { dir: path, step: manifest.step, files };
  }
  const root = existsSync(join(path, 'checkpoints')) ? join(path, 'checkpoints') : path;
  const dirs = await new CheckpointStore(root, Number.MAX_SAFE_INTEGER, '').list();
  if (dirs.length === 0) throw new CorruptCheckpointError(`no checkpoint in ${root}`);
  for (const dir of dirs) {
    try {
      const { manifest, files } = await CheckpointStore.read(dir);
      return { dir, step: manifest.step, files };
    } catch (e) {
      if (!(e instanceof CorruptCheckpointError)) throw e;
      warn(`skipping corrupt checkpoint: ${e.message}`);
    }
  }
  throw new CorruptCheckpointError(`all ${dirs.length} checkpoint(s) in ${root} are corrupt`);
}

/** The checkpoint's model as tfjs model artifacts (topology + weights). */
export function checkpointModelArtifacts(checkpoint: VerifiedCheckpoint): tf.io.ModelArtifacts {
  const json = checkpoint.files.get('model/model.json');
  const weights = checkpoint.files.get('model/weights.bin');
  if (!json || !weights) throw new CorruptCheckpointError(`${checkpoint.dir}: has no model`);
  const modelJson = JSON.parse(new TextDecoder().decode(json)) as tf.io.ModelJSON;
  return { modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights), weightData: weights.slice().buffer };
}

/**
 * Writes the checkpoint's model in tfjs Layers format: `to` is a folder (gets `model.json` and
 * `weights.bin`) or a `.json` file path (its `weights.bin` goes beside it). Returns the model.json path.
 */
export async function exportCheckpointModel(checkpoint: VerifiedCheckpoint, to: string): Promise<string> {
  const json = checkpoint.files.get('model/model.json');
  const weights = checkpoint.files.get('model/weights.bin');
  if (!json || !weights) throw new CorruptCheckpointError(`${checkpoint.dir}: has no model`);
  const file = to.endsWith('.json') ? to : join(to, 'model.json');
  await ensureDir(dirname(file));
  const modelJson = JSON.parse(new TextDecoder().decode(json)) as tf.io.ModelJSON;
  const binName = to.endsWith('.json') ? `${basename(file, '.json')}.weights.bin` : 'weights.bin';
  modelJson.weightsManifest = [{ paths: [binName], weights: modelJson.weightsManifest.flatMap((g) => g.weights) }];
  await writeFile(join(dirname(file), binName), weights);
  await writeFile(file, JSON.stringify(modelJson));
  return file;
}
