import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, toArray } from 'rxjs';
import type { DataSource } from '../plugin-api/data-source.js';
import type { Experience } from '../data/experience.js';
import type { EventSink } from '../events/event-sink.js';
import { preparePipeline, type LoadedPipeline } from '../loading/pipeline.loader.js';
import { Rng } from '../random/rng.js';
import { componentMaker } from './component-maker.js';
import { pipelineDifferences } from './resume.js';
import { shiftExperiences, type LineageEntry } from './run-lineage.js';

const HERE = dirname(fileURLToPath(import.meta.url));

/** Pipeline sections that decide what a data source yields (with the folder its relative paths resolve from). */
const DATA_SECTIONS = new Set(['data', 'seed', 'plugins']);

/** The experiences of earlier runs, for evaluation, with the sources to close when the run ends. */
export interface EarlierExperiences {
  /** One list per lineage entry that could be read, oldest run first; indices in the chain's numbering. */
  readonly lists: Experience[][];
  readonly sources: DataSource[];
}

/**
 * Whether an earlier run's data is exactly this run's: the same `data` section, `seed` and `plugins`,
 * and the same folder for relative paths. The data source then yields the same experiences (its
 * random generator derives from the seed and `/data` alone), so they need not be built again.
 */
export function sameData(entry: LineageEntry, current: LoadedPipeline): boolean {
  return (
    resolve(entry.baseDir) === resolve(current.baseDir) &&
    pipelineDifferences(entry.pipeline, current.definition).every((k) => !DATA_SECTIONS.has(k))
  );
}

/**
 * Rebuilds the data of every earlier run of a chain from its stored pipeline (same plugins, seed and
 * options, relative paths from its own folder), so the new run evaluates on their test sets too.
 * Plugin packages are resolved like the current pipeline's; plugin files named by a stored pipeline
 * are never loaded (a checkpoint cannot run code). A run whose data cannot be rebuilt any more is said
 * once through `warn`, and its experiences' columns stay `null`.
 *
 * An earlier run whose data is this run's ({@link sameData}) is not rebuilt: it gets `own()`, this
 * run's own experiences (numbered from the source; a finite source's list, loaded once and shared
 * with the run), or nothing when this run is a live stream (a stream has no test sets to keep).
 */
export async function earlierExperiences(
  lineage: readonly LineageEntry[],
  current: LoadedPipeline,
  events: EventSink,
  warn: (message: string) => void,
  own: (() => Promise<readonly Experience[]>) | undefined,
): Promise<EarlierExperiences> {
  const lists: Experience[][] = [];
  const sources: DataSource[] = [];
  for (const entry of lineage) {
    if (sameData(entry, current)) {
      if (own) lists.push(shiftExperiences(await own(), entry.offset));
      continue;
    }
    let source: DataSource | undefined;
    try {
      const doc = { ...entry.pipeline, checkpoint: { enabled: false }, loggers: [], stages: [] };
      const loaded = await preparePipeline(doc, join(entry.baseDir, 'pipeline.json'), {
        builtins: current.manifests,
        resolveFrom: [current.baseDir, HERE],
      });
      source = componentMaker(loaded, new Rng(loaded.definition.seed), events)<DataSource>(
        'dataset',
        loaded.definition.data,
        '/data',
      );
      const info = await source.describe();
      if (info.experiences === 'endless') {
        await source.close?.();
        continue; // a stream has no test sets to keep
      }
      const all = await lastValueFrom(source.experiences().pipe(toArray()), { defaultValue: [] as Experience[] });
      lists.push(shiftExperiences(all, entry.offset));
      sources.push(source);
    } catch (e) {
      await source?.close?.();
      const why = (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
      warn(
        `the data of the earlier run "${entry.name}" cannot be read any more (${why}): its experiences' accuracy columns stay null`,
      );
    }
  }
  return { lists, sources };
}
