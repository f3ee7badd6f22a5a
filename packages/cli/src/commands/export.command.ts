import { CorruptCheckpointError, exportCheckpointModel, latestValidCheckpoint } from '@engram/core';

/**
 * `engram export <dir> --to <file|dir>`: writes the model of the newest valid checkpoint under
 * `dir` (a run's output folder, its checkpoints folder, or one checkpoint) in tfjs Layers format,
 * which `tf.loadLayersModel` reads. Exit 2 when there is no valid checkpoint.
 */
export async function exportCommand(dir: string, flags: { to: string }): Promise<number> {
  try {
    const checkpoint = await latestValidCheckpoint(dir, (m) => process.stderr.write(`warning: ${m}\n`));
    const file = await exportCheckpointModel(checkpoint, flags.to);
    process.stdout.write(`exported ${checkpoint.dir} (step ${checkpoint.step}) to ${file}\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof CorruptCheckpointError)) throw e;
    process.stderr.write(`error: ${e.message}\n`);
    return 2;
  }
}
