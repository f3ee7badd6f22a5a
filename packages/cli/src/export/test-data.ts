import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { lastValueFrom, toArray } from 'rxjs';
import { createComponent, Rng, tempPathOf, type DataSource, type LoadedPipeline } from '@engram/core/internal';

/**
 * Writes the test sets of `loaded`'s experiences to `file` as JSON lines `{"experience", "x", "y"}` (plus
 * `"task"` when batches carry task labels): raw inputs, before preprocessing, exactly the samples
 * `engram eval` scores. The data source is built as a run builds it (same seed, same path), so the
 * split is the run's.
 */
export async function writeTestData(loaded: LoadedPipeline, file: string): Promise<number> {
  const def = loaded.definition;
  const services = {
    rng: new Rng(def.seed).derive('/data'),
    seed: def.seed,
    baseDir: loaded.baseDir,
    events: { emit: () => undefined },
    path: '/data',
  };
  const source = createComponent<DataSource>(loaded.registry, 'dataset', def.data, services);
  // written beside `file` and renamed over it once complete: an earlier export is never truncated
  const tmp = tempPathOf(file);
  const out = createWriteStream(tmp);
  let complete = false;
  let count = 0;
  try {
    const info = await source.describe();
    if (info.experiences === 'endless')
      throw new Error('--test-data needs a pipeline with finite experiences (test sets); this one is a live stream');
    const experiences = await lastValueFrom(source.experiences().pipe(toArray()));
    for (const exp of experiences) {
      if (!exp.test) continue;
      for await (const batch of exp.test.batches({ batchSize: 256, shuffle: false, epoch: 0, seed: 0 })) {
        const len = batch.x.length / batch.y.length;
        for (let i = 0; i < batch.y.length; i++) {
          const rec = {
            experience: exp.index,
            x: Array.from(batch.x.subarray(i * len, (i + 1) * len)),
            y: batch.y[i],
            ...(batch.task ? { task: batch.task[i] } : {}),
          };
          if (!out.write(`${JSON.stringify(rec)}\n`)) await once(out, 'drain');
          count++;
        }
      }
    }
    complete = true;
  } finally {
    out.end();
    await once(out, 'close');
    await source.close?.();
    if (!complete) await rm(tmp, { force: true });
  }
  await rename(tmp, file);
  return count;
}
