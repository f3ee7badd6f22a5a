import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LoadedPipeline } from './pipeline.loader.js';
import { ensureDirSync, OutputDirError } from '../output/safe-dir.js';

/** Where a run writes: its output folder and its checkpoint folder (`undefined` when checkpoints are off). */
export interface RunPaths {
  readonly outDir: string;
  readonly checkpointDir: string | undefined;
}

/**
 * The run's folders, resolved as the engine resolves them: `outDir` (else the pipeline's `output.dir`
 * against its folder, else `runs/<name>` in the working directory), and `checkpoint.dir` (against the
 * pipeline's folder) or `<outDir>/checkpoints`.
 */
export function runPaths(loaded: LoadedPipeline, outDir?: string): RunPaths {
  const def = loaded.definition;
  const out = resolve(outDir ?? (def.output.dir ? resolve(loaded.baseDir, def.output.dir) : `runs/${def.name}`));
  const ck = def.checkpoint.dir ? resolve(loaded.baseDir, def.checkpoint.dir) : resolve(out, 'checkpoints');
  return { outDir: out, checkpointDir: def.checkpoint.enabled ? ck : undefined };
}

/**
 * Checks, before anything is trained, that each folder can be created and written: creates it (one
 * level at a time, see {@link ensureDirSync}), writes a small probe file and removes it. Throws
 * {@link OutputDirError} with one line naming the folder.
 */
export function probeWritable(dirs: readonly string[]): void {
  for (const dir of dirs) {
    ensureDirSync(dir);
    const probe = join(dir, `.engram-probe-${process.pid}`);
    try {
      writeFileSync(probe, 'probe');
    } catch (e) {
      throw new OutputDirError(`cannot write to ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    } finally {
      rmSync(probe, { force: true });
    }
  }
}
