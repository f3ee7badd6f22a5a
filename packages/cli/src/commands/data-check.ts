import { PipelineError, type LoadedPipeline, type PipelineProblem } from '@engram/core';

/**
 * Runs the data component's static `check` (files, folders, columns it names), if its descriptor has
 * one: called by `engram validate` and by `engram run` before anything is built. Returns the problems at
 * their `/data/...` pointers; never trains, writes or emits events.
 */
export async function dataProblems(loaded: LoadedPipeline): Promise<PipelineProblem[]> {
  const { kind, ...options } = loaded.definition.data as { kind: string } & Record<string, unknown>;
  const descriptor = loaded.registry.get('dataset', kind);
  if (!descriptor?.check) return [];
  return descriptor.check(options, { baseDir: loaded.baseDir, path: '/data' });
}

/** Throws a {@link PipelineError} (exit 2) listing every data problem of `loaded`, if any. */
export async function assertDataReadable(loaded: LoadedPipeline): Promise<void> {
  const problems = await dataProblems(loaded);
  if (problems.length > 0) throw new PipelineError(problems, loaded.file);
}
