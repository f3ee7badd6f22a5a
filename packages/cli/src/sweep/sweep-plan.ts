import { createHash } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import {
  compileSchema,
  corePlugin,
  PipelineError,
  preparePipeline,
  readJsonFile,
  Rng,
  type PipelineProblem,
} from '@engram/core/internal';
import { escapeToken, pointerTokens, safePointerTokens, setAtPointer } from './json-pointer.js';
import { DEFAULT_MAX_COMBINATIONS, SweepSchema, type SweepDocument, type SweepMetric } from './sweep.schema.js';
import { CLI_DIR } from './sweep-paths.js';

/** One point of the search: its position, folder name and the values set in the base pipeline. */
export interface Combination {
  readonly index: number;
  readonly name: string;
  /** `{ "<pointer>": value }`, in the order of the sweep file. */
  readonly overrides: Readonly<Record<string, unknown>>;
}

/**
 * Everything a worker needs to run one combination, on any machine that shares the output folder:
 * the complete pipeline document (base + overrides) and the base pipeline's path (relative paths in
 * the document resolve against its folder).
 */
export interface SweepJob {
  readonly sweep: string;
  readonly index: number;
  readonly name: string;
  readonly overrides: Readonly<Record<string, unknown>>;
  readonly baseFile: string;
  readonly doc: unknown;
  /** `DIR/<name>`: summary, metrics, checkpoints of this combination. */
  readonly outDir: string;
}

/** A validated sweep, expanded into its combinations. */
export interface SweepPlan {
  readonly file: string;
  readonly name: string;
  readonly baseFile: string;
  readonly metric: SweepMetric;
  readonly goal: 'max' | 'min';
  /** The swept pointers, grid first then random. */
  readonly pointers: readonly string[];
  readonly combinations: readonly Combination[];
  /** The pipeline document of each combination, validated. */
  readonly docs: readonly unknown[];
  /** A short hash of the sweep file and base pipeline (job ids). */
  readonly digest: string;
}

const problemAt = (path: string, message: string): PipelineProblem => ({ path, message });

/** The cartesian product of the grid, first key varying slowest. */
function gridPoints(grid: Record<string, unknown[]>): Record<string, unknown>[] {
  let points: Record<string, unknown>[] = [{}];
  for (const [pointer, values] of Object.entries(grid))
    points = points.flatMap((p) => values.map((v) => ({ ...p, [pointer]: v })));
  return points;
}

/** `samples` seeded draws of the random space. */
function randomPoints(random: NonNullable<SweepDocument['random']>): Record<string, unknown>[] {
  const rng = new Rng(random.seed);
  return Array.from({ length: random.samples }, () => {
    const point: Record<string, unknown> = {};
    for (const [pointer, dim] of Object.entries(random.space)) {
      if (dim.values) point[pointer] = dim.values[rng.int(dim.values.length)];
      else if (dim.min !== undefined && dim.max !== undefined) {
        const u = rng.next();
        const v = dim.log
          ? Math.exp(Math.log(dim.min) + u * (Math.log(dim.max) - Math.log(dim.min)))
          : dim.min + u * (dim.max - dim.min);
        point[pointer] = dim.integer ? Math.round(v) : Number(v.toPrecision(6));
      }
    }
    return point;
  });
}

/** A folder name: `c<position>`, then `<last named token>=<value>` pairs (e.g. `c03-lambda=100_seed=2`). */
function combinationName(index: number, overrides: Record<string, unknown>): string {
  const label = (p: string): string => [...pointerTokens(p)].reverse().find((t) => !/^\d+$/.test(t)) ?? p;
  const parts = Object.entries(overrides).map(
    ([p, v]) => `${label(p)}=${typeof v === 'string' ? v : JSON.stringify(v)}`,
  );
  const slug = parts
    .join('_')
    .replace(/[^A-Za-z0-9.=_+-]+/g, '-')
    .slice(0, 80);
  return `c${String(index).padStart(2, '0')}${slug ? `-${slug}` : ''}`;
}

/**
 * Reads and validates `sweep.json` (exit 2 with JSON-pointer problems, like pipelines), expands the
 * grid × random draws, and validates every combination's pipeline against the schema composed from
 * its plugins. Each combination checkpoints into its own folder (`checkpoint.dir` and `output.dir`
 * of the base are dropped; checkpoints are enabled).
 */
export async function loadSweep(file: string): Promise<SweepPlan> {
  const abs = resolve(file);
  const doc = await readJsonFile(abs);
  const problems = compileSchema(SweepSchema)(doc);
  if (problems.length > 0) throw new PipelineError(problems, abs);
  const sweep = doc as SweepDocument;
  const keys = [
    ...Object.keys(sweep.grid ?? {}).map((k) => ['grid', k] as const),
    ...Object.keys(sweep.random?.space ?? {}).map((k) => ['random/space', k] as const),
  ];
  for (const [where, key] of keys) {
    try {
      safePointerTokens(key);
    } catch (e) {
      problems.push(problemAt(`/${where}/${escapeToken(key)}`, (e as Error).message));
    }
  }
  for (const [key, dim] of Object.entries(sweep.random?.space ?? {})) {
    const at = `/random/space/${escapeToken(key)}`;
    if (dim.values !== undefined) {
      if (dim.min !== undefined || dim.max !== undefined || dim.log !== undefined)
        problems.push(problemAt(at, 'give either "values" or "min" and "max", not both'));
    } else if (dim.min === undefined || dim.max === undefined)
      problems.push(problemAt(at, 'give "values", or "min" and "max"'));
    else if (!(dim.min < dim.max)) problems.push(problemAt(at, `min ${dim.min} must be below max ${dim.max}`));
    else if (dim.log === true && dim.min <= 0)
      problems.push(problemAt(`${at}/min`, 'must be > 0 for a log-uniform draw'));
  }
  if (keys.length === 0) problems.push(problemAt('', 'give "grid" and/or "random" with at least one pointer'));
  if (problems.length > 0) throw new PipelineError(problems, abs);

  const baseFile = resolve(dirname(abs), sweep.pipeline);
  let base: unknown;
  try {
    base = await readJsonFile(baseFile);
  } catch (e) {
    // Name the problem, never the base file's content (it may be any file: `/etc/passwd`).
    const why =
      e instanceof PipelineError ? e.problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)) : [];
    throw PipelineError.at(
      '/pipeline',
      `${baseFile} is not a valid pipeline file: ${why[0] ?? (e as Error).message.split('\n')[0] ?? 'unreadable'}`,
      abs,
    );
  }
  // The size is the product of the value counts: checked before anything is expanded.
  const counts = [
    ...Object.values(sweep.grid ?? {}).map((v) => v.length),
    ...(sweep.random ? [sweep.random.samples] : []),
  ];
  const size = counts.reduce((a, b) => a * b, 1);
  const limit = sweep.maxCombinations ?? DEFAULT_MAX_COMBINATIONS;
  if (size > limit)
    throw PipelineError.at(
      sweep.grid ? '/grid' : '/random/samples',
      `the sweep has ${size.toLocaleString('en-US')} combinations (${counts.join(' × ')}), over maxCombinations ${limit.toLocaleString('en-US')}: sweep fewer values or raise "maxCombinations"`,
      abs,
    );
  const grid = gridPoints(sweep.grid ?? {});
  const draws = sweep.random ? randomPoints(sweep.random) : [{}];
  const points = grid.flatMap((g) => draws.map((r) => ({ ...g, ...r })));
  const combinations: Combination[] = [];
  const docs: unknown[] = [];
  for (const [index, overrides] of points.entries()) {
    const name = combinationName(index, overrides);
    const combined = structuredClone(base) as Record<string, unknown>;
    for (const [pointer, value] of Object.entries(overrides)) {
      try {
        setAtPointer(combined, pointer, value);
      } catch (e) {
        const where = pointer in (sweep.grid ?? {}) ? 'grid' : 'random/space';
        throw PipelineError.at(`/${where}/${escapeToken(pointer)}`, (e as Error).message, abs);
      }
    }
    const checkpoint = (
      typeof combined['checkpoint'] === 'object' && combined['checkpoint'] !== null ? combined['checkpoint'] : {}
    ) as Record<string, unknown>;
    delete checkpoint['dir'];
    combined['checkpoint'] = { ...checkpoint, enabled: true };
    if (typeof combined['output'] === 'object' && combined['output'] !== null)
      delete (combined['output'] as Record<string, unknown>)['dir'];
    try {
      await preparePipeline(combined, baseFile, { resolveFrom: [CLI_DIR], builtins: [corePlugin] });
    } catch (e) {
      if (!(e instanceof PipelineError)) throw e;
      throw new PipelineError(
        e.problems.map((p) => ({ ...p, message: `${p.message} (combination ${name})` })),
        baseFile,
      );
    }
    combinations.push({ index, name, overrides });
    docs.push(combined);
  }
  const digest = createHash('sha256')
    .update(JSON.stringify([abs, doc, base]))
    .digest('hex')
    .slice(0, 12);
  const goal = sweep.goal ?? (sweep.metric === 'forgetting' ? 'min' : 'max');
  return {
    file: abs,
    name: sweep.name ?? basename(abs).replace(/(\.sweep)?\.json$/, ''),
    baseFile,
    metric: sweep.metric,
    goal,
    pointers: keys.map(([, k]) => k),
    combinations,
    docs,
    digest,
  };
}

/** The job of each combination, writing under `outDir`. */
export function sweepJobs(plan: SweepPlan, outDir: string): SweepJob[] {
  return plan.combinations.map((c, i) => ({
    sweep: plan.name,
    index: c.index,
    name: c.name,
    overrides: c.overrides,
    baseFile: plan.baseFile,
    doc: plan.docs[i],
    outDir: join(resolve(outDir), c.name),
  }));
}
