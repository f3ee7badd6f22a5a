/** One problem in a pipeline document: where (a JSON pointer) and what was expected. */
export interface PipelineProblem {
  /** JSON pointer into the document (`/training/epochs`), or `''` for the whole document. */
  readonly path: string;
  readonly message: string;
}

/**
 * A pipeline that cannot run as written: schema violations, unknown plugins or kinds, a model file
 * that does not exist, layers that do not fit the data. The CLI prints one line per problem,
 * `<path>: <message>`, and exits with code 2.
 */
export class PipelineError extends Error {
  constructor(
    readonly problems: readonly PipelineProblem[],
    readonly file?: string,
  ) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'PipelineError';
  }

  /** A pipeline error with a single problem. */
  static at(path: string, message: string, file?: string): PipelineError {
    return new PipelineError([{ path, message }], file);
  }
}

/** `<path>: <message>`, with `(root)` for the empty pointer. */
export function formatProblem(problem: PipelineProblem): string {
  return `${problem.path === '' ? '(root)' : problem.path}: ${problem.message}`;
}

/** Escapes one JSON-pointer segment. */
export function pointerSegment(segment: string | number): string {
  return String(segment).replace(/~/g, '~0').replace(/\//g, '~1');
}
