import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { corePlugin, loadPipeline, loadPlugins, type LoadedPipeline, type LoadedPlugins } from '@engram/core';

const here = dirname(fileURLToPath(import.meta.url));

/** The first-party plugins `engram schema` and `engram plugins` describe by default. */
export const FIRST_PARTY_PLUGINS = ['@engram/datasets', '@engram/strategies'] as const;

/** Engram's version (the CLI package's). */
export const VERSION = (JSON.parse(readFileSync(join(here, '..', 'package.json'), 'utf8')) as { version: string })
  .version;

/**
 * Loads a pipeline file with the CLI's resolution rules (its own dependencies are found too).
 * `allowLocalPlugins`: `--allow-local-plugins`, or `'any'` for a document this process already loaded.
 */
export function loadPipelineFile(
  file: string,
  extraPlugins: readonly string[] = [],
  allowLocalPlugins: boolean | 'any' = false,
): Promise<LoadedPipeline> {
  return loadPipeline(file, { extraPlugins, resolveFrom: [here], builtins: [corePlugin], allowLocalPlugins });
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
