import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, toArray } from 'rxjs';
import {
  Rng,
  type Batch,
  type BatchSource,
  type ComponentDescriptor,
  type ComponentServices,
  type DataSource,
  type EngramEventInput,
  type Experience,
} from '@engram/core';

/** Services for a component under test; `events` collects what it emits. */
export function testServices(seed = 1, baseDir = '.'): ComponentServices & { emitted: EngramEventInput[] } {
  const emitted: EngramEventInput[] = [];
  return { rng: new Rng(seed), seed, baseDir, path: '/data', events: { emit: (e) => emitted.push(e) }, emitted };
}

/** Builds a component from a descriptor with the given (already defaulted) options. */
export function build<T>(d: ComponentDescriptor, options: Record<string, unknown>, services: ComponentServices): T {
  if (!d.create) throw new Error(`${d.kind} has no create`);
  return d.create(options, services) as T;
}

/** All experiences of a data source. */
export function experiencesOf(source: DataSource): Promise<Experience[]> {
  return firstValueFrom(source.experiences().pipe(toArray()));
}

/** Every batch of one unshuffled pass. */
export async function pass(source: BatchSource | undefined, batchSize = 64): Promise<Batch[]> {
  const out: Batch[] = [];
  if (!source) throw new Error('no source');
  for await (const b of source.batches({ batchSize, shuffle: false, epoch: 0, seed: 0 })) out.push(b);
  return out;
}

/** A fresh temp dir and its cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'engram-ds-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
