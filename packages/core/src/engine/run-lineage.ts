import type { Checkpointable } from '../plugin-api/checkpointable.js';
import type { Experience } from '../data/experience.js';
import type { PipelineDefinition } from '../pipeline/pipeline-definition.js';
import type { JsonValue, SerializedState } from '../plugin-api/serialized-state.js';

/**
 * One run of a chain of runs started with `--from`: enough to rebuild its data (its pipeline, with
 * the folder its relative paths are resolved against) and to place its experiences in the chain's
 * numbering (`offset` is added to the indices its data source gives).
 */
export interface LineageEntry {
  readonly name: string;
  readonly pipeline: PipelineDefinition;
  readonly baseDir: string;
  readonly offset: number;
}

/**
 * `/run/lineage`: the earlier runs this run continues (oldest first) and the offset of this run's own
 * experience numbering. A checkpoint stores them with this run appended, so a run started `--from`
 * it knows the whole chain — and evaluates on every earlier run's test sets.
 */
export class RunLineage implements Checkpointable {
  /** Earlier runs of the chain, oldest first (empty for a run that did not start `--from` another). */
  earlier: LineageEntry[] = [];
  /** Added to the indices of this run's own experiences so they continue the earlier run's. */
  offset = 0;

  constructor(private readonly self: () => Omit<LineageEntry, 'offset'>) {}

  /** This run as the last entry of the chain a later `--from` run reads. */
  chain(): LineageEntry[] {
    return [...this.earlier, { ...this.self(), offset: this.offset }];
  }

  state(): SerializedState {
    return { meta: { runs: this.chain() } as unknown as JsonValue };
  }

  restore(s: SerializedState): void {
    const runs = ((s.meta as { runs?: LineageEntry[] } | null)?.runs ?? []).filter(isEntry);
    this.earlier = runs.slice(0, -1);
    this.offset = runs[runs.length - 1]?.offset ?? 0;
  }
}

function isEntry(value: unknown): value is LineageEntry {
  const v = value as Partial<LineageEntry> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.name === 'string' &&
    typeof v.baseDir === 'string' &&
    Number.isInteger(v.offset) &&
    typeof v.pipeline === 'object' &&
    v.pipeline !== null
  );
}

/**
 * Where this run's experience numbering starts when it continues an earlier run whose next experience
 * is `next`: a source that already numbers past it (a scenario's `only` range) keeps its indices; one
 * that starts below it (new data numbered from 0) is shifted to start at `next`.
 */
export function continuationOffset(own: readonly Experience[], next: number): number {
  const first = own.find((e) => e.evaluateOnly !== true)?.index;
  return first === undefined || first >= next ? 0 : next - first;
}

/** `experiences` with `offset` added to every index (the same objects when it is 0). */
export function shiftExperiences(experiences: readonly Experience[], offset: number): Experience[] {
  return offset === 0 ? [...experiences] : experiences.map((e) => ({ ...e, index: e.index + offset }));
}

/**
 * The evaluation targets of a run in a chain: its own experiences, plus — as evaluate-only — every
 * earlier run's experience whose index this run does not provide (a later run's definition of an
 * index wins), sorted by index.
 */
export function mergeEvaluationTargets(
  own: readonly Experience[],
  earlier: ReadonlyArray<readonly Experience[]>,
): Experience[] {
  const byIndex = new Map<number, Experience>();
  for (const list of earlier)
    for (const e of list) if (e.test !== undefined) byIndex.set(e.index, { ...e, evaluateOnly: true });
  for (const e of own) byIndex.set(e.index, e);
  return [...byIndex.values()].sort((a, b) => a.index - b.index);
}
