import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import {
  corePlugin,
  loadPipeline,
  loadPlugins,
  PipelineError,
  preparePipeline,
  type LoadedPipeline,
  type LoadedPlugins,
} from '@engram/core';
import { readJsonFile } from '@engram/core/internal';
import { applyOverrides, attributeProblems, parseOverride } from './pipeline-overrides.js';

const here = dirname(fileURLToPath(import.meta.url));

/** The first-party plugins `engram schema` and `engram plugins` describe by default. */
export const FIRST_PARTY_PLUGINS = ['@engram/datasets', '@engram/strategies'] as const;

/** Engram's version (the CLI package's). */
export const VERSION = (JSON.parse(readFileSync(join(here, '..', 'package.json'), 'utf8')) as { version: string })
  .version;

/**
 * Loads a pipeline file with the CLI's resolution rules (its own dependencies are found too).
 * `allowLocalPlugins`: `--allow-local-plugins`, or `'any'` for a document this process already loaded.
 * `sets`: the command's `--set path=value` flags (see pipeline-overrides.ts), applied in order to the
 * parsed document before it is validated, so a bad value is reported at its pointer like one in the file.
 */
export async function loadPipelineFile(
  file: string,
  extraPlugins: readonly string[] = [],
  allowLocalPlugins: boolean | 'any' = false,
  sets: readonly string[] = [],
): Promise<LoadedPipeline> {
  const options = { extraPlugins, resolveFrom: [here], builtins: [corePlugin], allowLocalPlugins };
  if (sets.length === 0) return loadPipeline(file, options);
  const abs = resolve(file);
  const overrides = sets.map(parseOverride);
  const doc = await readJsonFile(abs);
  applyOverrides(doc, overrides, abs);
  try {
    return await preparePipeline(doc, abs, options);
  } catch (e) {
    if (e instanceof PipelineError) throw new PipelineError(attributeProblems(e.problems, overrides), e.file);
    throw e;
  }
}

/** Loads core's built-ins, the first-party plugins and `extra` (for `schema` and `plugins`). */
export function loadDefaultPlugins(extra: readonly string[] = []): Promise<LoadedPlugins> {
  const requests = [...FIRST_PARTY_PLUGINS, ...extra].map((specifier) => ({
    specifier,
    path: '--plugin',
    origin: 'cli' as const,
  }));
  return loadPlugins(requests, { baseDir: process.cwd(), extraDirs: [here] }, [corePlugin]);
}
