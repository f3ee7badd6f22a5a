import { PipelineError } from '@engram/core';
import { loadedSurgeryProblems } from '@engram/core/internal';
import { loadPipelineFile } from '../cli-context.js';
import { EXIT_INVALID, reportError } from '../errors.js';
import { assertDataReadable } from './data-check.js';

/**
 * `engram validate <pipeline.json…>`: checks each document (and its plugins) without running it.
 * The data it names is checked too, without training (files, folders, columns: see each source's
 * `check`; `--no-data` skips it). A loaded model file (`model.load`) with merge nodes under a chain
 * surgery (widen/insert/set-activation/reinit) is refused at its `/adjust/<i>` as `engram run` refuses it
 * before training (the file is read only then). Every problem of every file is printed; exit 2 when any file is invalid.
 */
export async function validateCommand(
  files: readonly string[],
  flags: { plugin?: string[]; verbose?: boolean; allowLocalPlugins?: boolean; data?: boolean; set?: string[] },
): Promise<number> {
  let code = 0;
  for (const file of files) {
    try {
      const loaded = await loadPipelineFile(
        file,
        flags.plugin ?? [],
        flags.allowLocalPlugins === true,
        flags.set ?? [],
      );
      if (flags.data !== false) await assertDataReadable(loaded);
      const surgery = await loadedSurgeryProblems(loaded.definition, loaded.baseDir);
      if (surgery.length > 0) throw new PipelineError(surgery, loaded.file);
      process.stdout.write(`${file}: valid (${loaded.manifests.map((m) => m.name).join(', ')})\n`);
    } catch (e) {
      if (!(e instanceof PipelineError)) throw e;
      code = reportError(e, flags.verbose === true);
    }
  }
  return code === 0 ? 0 : EXIT_INVALID;
}
