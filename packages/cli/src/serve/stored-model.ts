import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  CheckpointRegistry, componentMaker, corePlugin, decodeCheckpoint, EventBus, fileModelLoader, latestValidCheckpoint, preparePipeline, Rng, selectBackend, TransformChain,
  type DataSource, type PipelineDefinition, type Transform, type VerifiedCheckpoint,
} from '@engram/core/internal';
import type { EngramExport } from '../export/export-manifest.js';
import { ModelVersion } from './model-version.js';
import type { ServedData } from './served-data.js';

/** A model read from disk for `engram serve`, with what its requests need. */
export interface StoredModel {
  readonly model: ModelVersion;
  readonly data: ServedData;
  /** The checkpoint directory or export folder it came from. */
  readonly from: string;
}

/** Whether `dir` is an `engram export` folder (model.json + engram.json). */
export function isExportDir(dir: string): boolean {
  return existsSync(join(dir, 'engram.json')) && existsSync(join(dir, 'model.json'));
}

/** The pipeline a checkpoint was written by, loaded with its plugins (to rebuild its preprocessing). */
async function checkpointPipeline(cp: VerifiedCheckpoint, resolveFrom: string) {
  const run = JSON.parse(new TextDecoder().decode(cp.files.get('run.json') ?? new Uint8Array())) as { pipeline: PipelineDefinition };
  return preparePipeline(run.pipeline, join(cp.dir, 'run.json'), { builtins: [corePlugin], resolveFrom: [resolveFrom] });
}

/**
 * Loads the newest valid checkpoint under `path` (run folder, checkpoints folder or one checkpoint):
 * its model, and its pipeline's preprocessing with the fitted statistics the checkpoint holds (as
 * `engram eval` does). The raw input shape comes from the pipeline's data source description.
 * Nothing in the checkpoint is executed.
 */
export async function loadCheckpointModel(path: string, version: number, resolveFrom: string, warn: (m: string) => void): Promise<StoredModel> {
  const cp = await latestValidCheckpoint(path, warn);
  const loaded = await checkpointPipeline(cp, resolveFrom);
  const def = loaded.definition;
  // The backend the run trained on (the first load picks it for the process; later ones keep it).
  if (version === 1) await selectBackend(def.backend);
  const bus = new EventBus();
  const make = componentMaker(loaded, new Rng(def.seed), bus);
  const chain = new TransformChain(def.preprocess.map((r, i) => make<Transform>('transform', r, `/preprocess/${i}`)));
  const decoded = decodeCheckpoint(cp.files, cp.format, cp.dir, def);
  const registry = new CheckpointRegistry();
  chain.transforms.forEach((t, i) => {
    if (t.state) registry.register(`/preprocess/${i}`, { state: () => t.state?.() ?? {}, ...(t.restore ? { restore: (s) => t.restore?.(s) } : {}) }, { optional: true });
  });
  await registry.restore(decoded.states);
  const source = make<DataSource>('dataset', def.data, '/data');
  const info = await source.describe().finally(async () => {
    await source.close?.();
    bus.complete();
  });
  const cursor = decoded.states.get('/run/cursor')?.meta as unknown as { cursor?: { experience?: number } } | undefined;
  const network = await tf.loadLayersModel(tf.io.fromMemory(decoded.model));
  const model = new ModelVersion({ version, step: cp.step, experience: Math.max(0, cursor?.cursor?.experience ?? 0) }, network);
  return {
    model,
    from: cp.dir,
    data: { inputShape: info.inputShape, numClasses: info.numClasses, ...(info.classNames ? { classNames: info.classNames } : {}), preprocess: (b) => chain.prepare(b, 'test') },
  };
}

/**
 * Loads an `engram export` folder: `model.json` and `engram.json`. The model takes its inputs as
 * given, so only exports without preprocessing are served (a preprocessed one: serve the run's
 * checkpoints, which hold the pipeline and its fitted statistics).
 */
export async function loadExportModel(dir: string, version: number): Promise<StoredModel> {
  const manifest = JSON.parse(readFileSync(join(dir, 'engram.json'), 'utf8')) as EngramExport;
  if (manifest.format !== 'engram-export') throw new Error(`${join(dir, 'engram.json')} is not an engram export manifest`);
  const step = manifest.preprocessing[0];
  if (step) throw new Error(`the export applies preprocessing ("${step.kind}") before its model; serve the run's checkpoints instead (engram serve <run-dir>)`);
  const network = await tf.loadLayersModel(fileModelLoader(join(dir, 'model.json')));
  const inputShape = (network.inputs[0]?.shape ?? []).slice(1).map((d) => d ?? 1);
  const model = new ModelVersion({ version, step: manifest.checkpointStep, experience: Math.max(0, manifest.experiences.length - 1) }, network, manifest.output === 'probabilities');
  const names = manifest.classes.every((c, i) => c === String(i)) ? undefined : manifest.classes;
  return { model, from: dir, data: { inputShape, numClasses: manifest.classes.length, ...(names ? { classNames: names } : {}), preprocess: (b) => b } };
}
