import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { GraphSchema, type GraphSpec } from '../pipeline/layer.schema.js';
import type { ModelSpec } from '../pipeline/model.schema.js';
import { PipelineError, type PipelineProblem } from '../plugin-api/pipeline-error.js';
import { compileSchema } from '../pipeline/schema-validator.js';
import { graphProblems, layerStackProblems } from './graph-check.js';

/** Largest graph file read (a graph is a few kB of JSON; this bounds a wrong path to a huge file). */
const MAX_GRAPH_BYTES = 4 * 1024 * 1024;

async function readGraphFile(file: string): Promise<unknown> {
  let text: string;
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new Error('not a regular file');
    if (s.size > MAX_GRAPH_BYTES) throw new Error(`${s.size} bytes, over the ${MAX_GRAPH_BYTES}-byte limit`);
    text = await readFile(file, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw PipelineError.at('/model/graph', `cannot read the graph file ${file}: ${why}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw PipelineError.at('/model/graph', `the graph file ${file} is not valid JSON`);
  }
}

/**
 * The model section with a `graph` given as a file path replaced by the graph it holds (schema-checked),
 * and the structural problems of a graph or layer stack: unknown, duplicate or cyclic node inputs,
 * nodes that do not reach the output, merge layers in a stack. Problems inside a graph file keep their
 * pointer under `/model/graph` and name the file. Called by the pipeline loader, so `engram validate`
 * reports them; reads the graph file, changes nothing.
 */
export async function resolveModelSpec(
  spec: ModelSpec,
  baseDir: string,
): Promise<{ spec: ModelSpec; problems: PipelineProblem[] }> {
  if ('layers' in spec) return { spec, problems: layerStackProblems(spec.layers) };
  if (!('graph' in spec)) return { spec, problems: [] };
  if (typeof spec.graph !== 'string') return { spec, problems: graphProblems(spec.graph) };
  const file = resolve(baseDir, spec.graph);
  const doc = await readGraphFile(file);
  const inFile = (p: PipelineProblem): PipelineProblem => ({
    path: `/model/graph${p.path}`,
    message: `${p.message} (in ${file})`,
  });
  const schemaProblems = compileSchema(GraphSchema)(doc);
  if (schemaProblems.length > 0) return { spec, problems: schemaProblems.map(inFile) };
  const graph = doc as GraphSpec;
  return { spec: { ...spec, graph }, problems: graphProblems(graph, '').map(inFile) };
}
