import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The CLI's compiled folder: package names in pipelines also resolve from here. */
export const CLI_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The CLI entry point local sweeps spawn (`engram sweep-job`). */
export const CLI_MAIN = join(CLI_DIR, 'main.js');
