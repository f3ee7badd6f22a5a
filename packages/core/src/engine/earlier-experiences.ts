import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, toArray } from 'rxjs';
import type { DataSource } from '../data/data-source.js';
import type { Experience } from '../data/experience.js';
import type { EventSink } from '../events/event-sink.js';
import { preparePipeline, type LoadedPipeline } from '../pipeline/pipeline.loader.js';
import { Rng } from '../random/rng.js';
import { componentMaker } from './component-maker.js';
import { shiftExperiences, type LineageEntry } from './run-lineage.js';

const HERE = dirname(fileURLToPath(import.meta.url));

/** The experiences of earlier runs, for evaluation, with the sources to close when the run ends. */
export interface EarlierExperiences {
  /** One list per lineage entry that could be read, oldest run first; indices in the chain's numbering. */
  readonly lists: Experience[][];
  readonly sources: DataSource[];
}

/**
 * Rebuilds the data of every earlier run of a chain from its stored pipeline (same plugins, seed and
 * options, relative paths from its own folder), so the new run evaluates on their test sets too.
 * Plugin packages are resolved like the current pipeline's; plugin files named by a stored pipeline
 * are never loaded (a checkpoint cannot run code). A run whose data cannot be rebuilt any more is said
 * once through `warn`, and its experiences' columns stay `null`.
 */
export async function earlierExperiences(lineage: readonly LineageEntry[], current: LoadedPipeline, events: EventSink, warn: (message: string) => void): Promise<EarlierExperiences> {
  const lists: Experience[][] = [];
  const sources: DataSource[] = [];
  for (const entry of lineage) {
    let source: DataSource | undefined;
    try {
      const doc = { ...entry.pipeline, checkpoint: { enabled: false }, loggers: [], stages: [] };
      const loaded = await preparePipeline(doc, join(entry.baseDir, 'pipeline.json'), { builtins: current.manifests, resolveFrom: [current.baseDir, HERE] });
      source = componentMaker(loaded, new Rng(loaded.definition.seed), events)<DataSource>('dataset', loaded.definition.data, '/data');
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
      warn(`the data of the earlier run "${entry.name}" cannot be read any more (${why}): its experiences' accuracy columns stay null`);
    }
  }
  return { lists, sources };
}
