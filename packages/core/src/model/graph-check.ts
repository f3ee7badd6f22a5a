import { closestName } from '../pipeline/closest-name.js';
import { MERGE_LAYERS, type GraphNodeSpec, type GraphSpec, type LayerSpec } from '../pipeline/layer.schema.js';
import type { PipelineProblem } from '../plugin-api/pipeline-error.js';

/** Name of the classifier head layer Engram appends (to a layer stack or after a graph's output node). */
export const HEAD_LAYER_NAME = 'head';

/** The name nodes use for the graph's input when `graph.input` is not given. */
export const DEFAULT_GRAPH_INPUT = 'input';

/** The node whose output feeds the head: `graph.output`, or the last node. */
export function graphOutput(graph: GraphSpec): string {
  return graph.output ?? graph.nodes[graph.nodes.length - 1]?.name ?? '';
}

function unknownName(name: string, known: readonly string[]): string {
  const near = closestName(name, known);
  return `no node named "${name}"${near ? ` (did you mean "${near}"?)` : ''}; known: ${known.join(', ')}`;
}

/**
 * Structural problems of a graph, each at its JSON pointer under `base` (`/model/graph`): duplicate or
 * reserved names, unknown inputs, a wrong number of inputs, cycles (reported at the input that closes
 * the cycle), an unknown output and nodes that do not lead to the output. Shapes need the data and are
 * checked when the model is built. Called by the pipeline loader (so `engram validate` sees them) and by
 * the model builder; reads only `graph`.
 */
export function graphProblems(graph: GraphSpec, base = '/model/graph'): PipelineProblem[] {
  const problems: PipelineProblem[] = [];
  const input = graph.input ?? DEFAULT_GRAPH_INPUT;
  const index = new Map<string, number>();
  graph.nodes.forEach((node, i) => {
    const at = `${base}/nodes/${i}/name`;
    if (node.name === input)
      problems.push({ path: at, message: `"${input}" names the graph's input; rename the node` });
    else if (node.name === HEAD_LAYER_NAME)
      problems.push({
        path: at,
        message: `"${HEAD_LAYER_NAME}" is the classifier head Engram appends; rename the node`,
      });
    else if (index.has(node.name))
      problems.push({ path: at, message: `"${node.name}" is already the name of node ${index.get(node.name)}` });
    else index.set(node.name, i);
  });
  const known = [input, ...index.keys()];
  graph.nodes.forEach((node, i) => {
    const merge = MERGE_LAYERS.has(node.type);
    if (merge && node.inputs.length < 2)
      problems.push({ path: `${base}/nodes/${i}/inputs`, message: `${node.type} needs two or more inputs` });
    if (!merge && node.inputs.length !== 1)
      problems.push({
        path: `${base}/nodes/${i}/inputs`,
        message: `${node.type} takes one input, not ${node.inputs.length} (merge branches with add or concatenate)`,
      });
    node.inputs.forEach((name, j) => {
      if (name !== input && !index.has(name))
        problems.push({ path: `${base}/nodes/${i}/inputs/${j}`, message: unknownName(name, known) });
    });
  });
  if (problems.length > 0) return problems;
  problems.push(...cycleProblems(graph, index, input, base));
  if (problems.length > 0) return problems;
  const output = graphOutput(graph);
  if (!index.has(output)) return [{ path: `${base}/output`, message: unknownName(output, [...index.keys()]) }];
  const used = new Set<string>();
  const visit = (name: string): void => {
    if (name === input || used.has(name)) return;
    used.add(name);
    for (const n of graph.nodes[index.get(name) ?? 0]?.inputs ?? []) visit(n);
  };
  visit(output);
  graph.nodes.forEach((node, i) => {
    if (!used.has(node.name))
      problems.push({
        path: `${base}/nodes/${i}`,
        message: `node "${node.name}" does not connect to the output "${output}"; remove it or use it`,
      });
  });
  return problems;
}

function cycleProblems(
  graph: GraphSpec,
  index: ReadonlyMap<string, number>,
  input: string,
  base: string,
): PipelineProblem[] {
  const state = new Map<string, 'open' | 'done'>();
  const problems: PipelineProblem[] = [];
  const visit = (i: number): void => {
    const node = graph.nodes[i] as GraphNodeSpec;
    state.set(node.name, 'open');
    node.inputs.forEach((name, j) => {
      if (name === input || problems.length > 0) return;
      const s = state.get(name);
      if (s === 'open') {
        problems.push({
          path: `${base}/nodes/${i}/inputs/${j}`,
          message: `"${name}" closes a cycle (${node.name} → ${name} → … → ${node.name}); a graph must not loop`,
        });
      } else if (s === undefined) visit(index.get(name) ?? 0);
    });
    state.set(node.name, 'done');
  };
  graph.nodes.forEach((node, i) => {
    if (problems.length === 0 && !state.has(node.name)) visit(i);
  });
  return problems;
}

/**
 * Node indices in an order where every node comes after its inputs. Call only on a graph without
 * {@link graphProblems}; reads only `graph`.
 */
export function topologicalOrder(graph: GraphSpec): number[] {
  const input = graph.input ?? DEFAULT_GRAPH_INPUT;
  const index = new Map(graph.nodes.map((n, i) => [n.name, i]));
  const order: number[] = [];
  const done = new Set<number>();
  const visit = (i: number): void => {
    if (done.has(i)) return;
    done.add(i);
    for (const name of graph.nodes[i]?.inputs ?? []) if (name !== input) visit(index.get(name) ?? 0);
    order.push(i);
  };
  graph.nodes.forEach((_, i) => visit(i));
  return order;
}

/** Problems of a `layers` stack that the schema cannot express: merge layers, which need a graph. */
export function layerStackProblems(layers: readonly LayerSpec[]): PipelineProblem[] {
  return layers.flatMap((l, i) =>
    MERGE_LAYERS.has(l.type)
      ? [{ path: `/model/layers/${i}`, message: `${l.type} merges several inputs: write the model as a "graph"` }]
      : [],
  );
}
