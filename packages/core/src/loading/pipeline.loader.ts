import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { TObject } from '@sinclair/typebox';
import { resolveModelSpec } from '../model/graph-source.js';
import { adjustOrderProblems, surgeryProblems } from '../model/surgery-check.js';
import { loadPlugins, type LoadedPlugins } from '../plugin/plugin-loader.js';
import type { PluginManifest } from '../plugin-api/plugin-manifest.js';
import { scanJsonValue } from '../pipeline/json-scan.js';
import { readJsonFile } from '../pipeline/json-source.js';
import type { PipelineDefinition } from '../pipeline/pipeline-definition.js';
import { trainingControlProblems } from '../training/controls-check.js';
import { taskProblems } from '../pipeline/task-check.js';
import { PipelineError, type PipelineProblem } from '../plugin-api/pipeline-error.js';
import { composePipelineSchema, EnvelopeSchema } from '../pipeline/pipeline.schema.js';
import { compileSchema } from '../pipeline/schema-validator.js';
import { checkStageAnchors } from '../pipeline/stage-anchors.js';

/** A pipeline ready to run: the validated document, its folder, and the loaded plugins. */
export interface LoadedPipeline extends LoadedPlugins {
  readonly definition: PipelineDefinition;
  /** The pipeline file, absolute. */
  readonly file: string;
  /** Its folder: relative paths in the document resolve against it. */
  readonly baseDir: string;
  /** The composed schema the document was validated against. */
  readonly schema: TObject;
}

/** Options of {@link loadPipeline}. */
export interface LoadPipelineOptions {
  /** Plugins added on the command line, loaded after the document's. */
  readonly extraPlugins?: readonly string[];
  /** Extra folders package names are resolved from (e.g. the CLI's own). */
  readonly resolveFrom?: readonly string[];
  /** Core's built-in components. */
  readonly builtins?: readonly PluginManifest[];
  /**
   * Lets the document name plugin files under its own folder (`true`, `--allow-local-plugins`), or
   * anywhere (`'any'`: a document the caller wrote itself, e.g. in tests); off by default.
   */
  readonly allowLocalPlugins?: boolean | 'any';
}

/**
 * Reads, validates and prepares a pipeline in two phases: the envelope gives the plugin
 * list; the plugins are loaded; the whole document is then validated in one pass against the schema
 * composed from every registered component. Throws {@link PipelineError} listing every problem.
 */
export async function loadPipeline(file: string, options: LoadPipelineOptions = {}): Promise<LoadedPipeline> {
  const abs = resolve(file);
  const doc = await readJsonFile(abs);
  return preparePipeline(doc, abs, options);
}

/** {@link loadPipeline} for a document already parsed (tests, `engram validate -`). */
export async function preparePipeline(
  doc: unknown,
  file: string,
  options: LoadPipelineOptions = {},
): Promise<LoadedPipeline> {
  const baseDir = dirname(file);
  const shapeProblems = scanJsonValue(doc);
  if (shapeProblems.length > 0) throw new PipelineError(shapeProblems, file);
  const envelopeProblems = compileSchema(EnvelopeSchema)(doc);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw PipelineError.at('', 'must be a JSON object', file);
  }
  if (envelopeProblems.length > 0) throw new PipelineError(envelopeProblems, file);
  const names = ((doc as { plugins?: string[] }).plugins ?? []).map((specifier, i) => ({
    specifier,
    path: `/plugins/${i}`,
  }));
  const extra = (options.extraPlugins ?? []).map((specifier) => ({
    specifier,
    path: '--plugin',
    origin: 'cli' as const,
  }));
  let plugins: LoadedPlugins;
  try {
    plugins = await loadPlugins(
      [...names, ...extra],
      { baseDir, extraDirs: options.resolveFrom ?? [], allowLocal: options.allowLocalPlugins ?? false },
      options.builtins ?? [],
    );
  } catch (e) {
    if (e instanceof PipelineError) throw new PipelineError(e.problems, file);
    throw e;
  }
  const schema = composePipelineSchema(plugins.registry);
  const problems: PipelineProblem[] = compileSchema(schema)(doc);
  let definition = doc as PipelineDefinition;
  if (problems.length === 0) {
    const model = await resolveModelSpec(definition.model, baseDir).catch((e: unknown) => {
      throw e instanceof PipelineError ? new PipelineError(e.problems, file) : e;
    });
    problems.push(...model.problems);
    definition = { ...definition, model: model.spec };
  }
  if (problems.length === 0 && 'load' in definition.model) {
    const modelFile = resolve(baseDir, definition.model.load);
    if (!existsSync(modelFile)) problems.push({ path: '/model/load', message: `no model file at ${modelFile}` });
  }
  if (problems.length === 0) problems.push(...trainingControlProblems(definition), ...surgeryProblems(definition));
  if (problems.length === 0) problems.push(...taskProblems(definition, plugins.registry));
  if (problems.length === 0) problems.push(...adjustOrderProblems(definition, plugins.registry));
  if (problems.length > 0) throw new PipelineError(problems, file);
  try {
    checkStageAnchors(definition);
  } catch (e) {
    if (e instanceof PipelineError) throw new PipelineError(e.problems, file);
    throw e;
  }
  return { ...plugins, definition, file, baseDir, schema };
}
