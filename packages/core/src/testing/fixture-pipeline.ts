import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { corePlugin } from '../builtins/core.plugin.js';
import { preparePipeline, type LoadedPipeline } from '../loading/pipeline.loader.js';

/** Path of the compiled fixture plugin (for pipelines in tests). */
export const FIXTURE_PLUGIN = join(dirname(fileURLToPath(import.meta.url)), 'fixture.plugin.js');

/** A small valid pipeline over the fixture plugin; `overrides` replace top-level sections. */
export function fixtureDocument(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'fixture',
    seed: 7,
    backend: 'cpu',
    plugins: [FIXTURE_PLUGIN],
    data: { kind: 'blobs', classes: 4, experiences: 2, perClass: 40 },
    model: { layers: [{ type: 'dense', units: 16, activation: 'relu' }] },
    optimizer: { type: 'adam', learningRate: 0.01 },
    strategy: { kind: 'plain' },
    training: { epochs: 2, batchSize: 16 },
    checkpoint: { enabled: false },
    ...overrides,
  };
}

/** Validates and loads a fixture document (as if read from `<tmp>/pipeline.json`). */
export function loadFixture(
  doc: Record<string, unknown>,
  file = '/tmp/engram-fixture/pipeline.json',
): Promise<LoadedPipeline> {
  return preparePipeline(structuredClone(doc), file, { builtins: [corePlugin], allowLocalPlugins: 'any' });
}
