import { PipelineError, formatProblem } from '@engram/core';

/** Exit code for a pipeline that cannot run as written. */
export const EXIT_INVALID = 2;
/** Exit code for a failure while running. */
export const EXIT_FAILURE = 1;

/**
 * Prints an error the way the CLI promises — one line per pipeline problem (`<path>: <message>`) and
 * exit 2, or a one-line cause and exit 1 (`--verbose` adds the stack) — and returns the exit code.
 */
export function reportError(error: unknown, verbose: boolean): number {
  if (error instanceof PipelineError) {
    const prefix = error.file ? `${error.file}\n` : '';
    process.stderr.write(`${prefix}${error.problems.map((p) => `  ${formatProblem(p)}`).join('\n')}\n`);
    process.stderr.write(`${error.problems.length} problem${error.problems.length === 1 ? '' : 's'} found.\n`);
    return EXIT_INVALID;
  }
  const e = error instanceof Error ? error : new Error(String(error));
  process.stderr.write(`error: ${e.message.split('\n')[0] ?? ''}\n`);
  if (verbose && e.stack) process.stderr.write(`${e.stack}\n`);
  return EXIT_FAILURE;
}
