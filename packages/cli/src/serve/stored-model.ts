import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  buildPredictionView,
  checkpointMemory,
  componentMaker,
  corePlugin,
  decodeCheckpoint,
  EventBus,
  fileModelLoader,
  latestValidCheckpoint,
  preparePipeline,
  Rng,
  selectBackend,
  type Batch,
  type DataSource,
  type LoadedPipeline,
  type PipelineDefinition,
  type ServeSettings,
  type VerifiedCheckpoint,
} from '@engram/core/internal';
import type { EngramExport } from '../export/export-manifest.js';
import { ModelVersion, plainView } from './model-version.js';
import { servedData, type ServedData } from './served-data.js';

/** A model read from disk for `engram serve`, with what its requests need. */
export interface StoredModel {
  readonly model: ModelVersion;
  readonly data: ServedData;
  /** The checkpoint directory or export folder it came from. */
  readonly from: string;
  /**
   * The run's `serve` settings (checkpoints only; secrets as stored: `${NAME}` or `[redacted]`);
   * `engram serve --follow` applies its `promote` gates.
   */
  readonly serve?: ServeSettings;
  /** The checkpoint's pipeline, loaded with its plugins (checkpoints only: `engram serve --follow` reads its test sets). */
  readonly pipeline?: LoadedPipeline;
  /** True when the run trained a live stream (no test sets: the gates score the replay memory). */
  readonly stream?: boolean;
  /**
   * The checkpoint's replay memory (`Strategy.memory`, preprocessed as trained on): read only for a
   * stream whose pipeline has `serve.promote.maxForgetting` and a strategy that keeps one.
   */
  readonly memory?: Batch;
}

/** Whether `dir` is an `engram export` folder (model.json + engram.json). */
export function isExportDir(dir: string): boolean {
  return existsSync(join(dir, 'engram.json')) && existsSync(join(dir, 'model.json'));
}

/** The pipeline a checkpoint was written by, loaded with its plugins (to rebuild its preprocessing). */
async function checkpointPipeline(cp: VerifiedCheckpoint, resolveFrom: string) {
  const run = JSON.parse(new TextDecoder().decode(cp.files.get('run.json') ?? new Uint8Array())) as {
    pipeline: PipelineDefinition;
  };
  return preparePipeline(run.pipeline, join(cp.dir, 'run.json'), {
    builtins: [corePlugin],
    resolveFrom: [resolveFrom],
  });
}

/**
 * Loads the newest valid checkpoint under `path` (run folder, checkpoints folder or one checkpoint):
 * its model seen as the run's evaluation saw it — preprocessing with its fitted statistics, the
 * adjustments' and strategies' evaluation view and predictor restored from the checkpoint's states
 * (as `engram eval` does). The raw input shape comes from the pipeline's data source description.
 * Nothing in the checkpoint is executed.
 */
export async function loadCheckpointModel(
  path: string,
  version: number,
  resolveFrom: string,
  warn: (m: string) => void,
): Promise<StoredModel> {
  const cp = await latestValidCheckpoint(path, warn);
  const loaded = await checkpointPipeline(cp, resolveFrom);
  const def = loaded.definition;
  // The backend the run trained on (the first load picks it for the process; later ones keep it).
  if (version === 1) await selectBackend(def.backend);
  const bus = new EventBus();
  const source = componentMaker(loaded, new Rng(def.seed), bus)<DataSource>('dataset', def.data, '/data');
  const info = await source.describe().finally(async () => {
    await source.close?.();
    bus.complete();
  });
  const decoded = decodeCheckpoint(cp.files, cp.format, cp.dir, def);
  const cursor = decoded.states.get('/run/cursor')?.meta as unknown as { cursor?: { experience?: number } } | undefined;
  const network = await tf.loadLayersModel(tf.io.fromMemory(decoded.model));
  const view = await buildPredictionView(loaded, network, decoded.states, info).catch((e: unknown) => {
    network.dispose();
    throw e;
  });
  const model = new ModelVersion(
    { version, step: cp.step, experience: Math.max(0, cursor?.cursor?.experience ?? 0) },
    view,
  );
  const stream = info.experiences === 'endless';
  const memory =
    stream && def.serve?.promote?.maxForgetting !== undefined
      ? await checkpointMemory(loaded, decoded.states).catch((e: unknown) => {
          model.dispose();
          throw e;
        })
      : undefined;
  return {
    model,
    from: cp.dir,
    data: servedData(info),
    pipeline: loaded,
    stream,
    ...(memory ? { memory } : {}),
    ...(def.serve ? { serve: def.serve } : {}),
  };
}

/**
 * Loads an `engram export` folder: `model.json` and `engram.json`. The model takes its inputs as
 * given and is scored by its first output, so only exports without preprocessing, Hedge heads or
 * multi-head tasks are served (otherwise: serve the run's checkpoints, which hold the pipeline, its
 * fitted statistics and the evaluation's view).
 */
export async function loadExportModel(dir: string, version: number): Promise<StoredModel> {
  const manifest = JSON.parse(readFileSync(join(dir, 'engram.json'), 'utf8')) as EngramExport;
  if (manifest.format !== 'engram-export')
    throw new Error(`${join(dir, 'engram.json')} is not an engram export manifest`);
  const step = manifest.preprocessing[0];
  if (step)
    throw new Error(
      `the export applies preprocessing ("${step.kind}") before its model; serve the run's checkpoints instead (engram serve <run-dir>)`,
    );
  // Its first output alone is not what the run predicted: the checkpoints carry the evaluation's view.
  const special = manifest.hedge
    ? 'a Hedge model (its heads are mixed by weights)'
    : manifest.heads
      ? 'a multi-head model (scored per task)'
      : undefined;
  if (special)
    throw new Error(
      `the export is ${special}; serve the run's checkpoints instead (engram serve <run-dir>), which predict as the run's evaluation did`,
    );
  const network = await tf.loadLayersModel(fileModelLoader(join(dir, 'model.json')));
  const inputShape = (network.inputs[0]?.shape ?? []).slice(1).map((d) => d ?? 1);
  const model = new ModelVersion(
    { version, step: manifest.checkpointStep, experience: Math.max(0, manifest.experiences.length - 1) },
    plainView(network),
    manifest.output === 'probabilities',
  );
  const names = manifest.classes.every((c, i) => c === String(i)) ? undefined : manifest.classes;
  return {
    model,
    from: dir,
    data: { inputShape, numClasses: manifest.classes.length, ...(names ? { classNames: names } : {}) },
  };
}
