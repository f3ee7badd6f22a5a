import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  checkpointModelArtifacts,
  corePlugin,
  decodeStates,
  latestValidCheckpoint,
  preparePipeline,
  runPipeline,
  type LayerSpec,
  type ModelSpec,
} from '@engram/core/internal';
import { benchPlugin } from './bench.plugin.js';

/** Size and timing of one checkpoint. */
export interface CheckpointBenchResult {
  readonly parameters: number;
  readonly bytes: number;
  readonly writeSeconds: number;
  readonly readSeconds: number;
}

/** What to checkpoint. */
export interface CheckpointBenchOptions {
  /** Hidden layers (the dense-10 head is appended). Default: 784-1000-200 (987,210 parameters with the head). */
  readonly layers?: LayerSpec[];
  /** A whole pipeline `model` instead of `layers` (e.g. the bench ResNet's graph). */
  readonly model?: ModelSpec;
  /** Shape of one random sample (default 28×28×1). */
  readonly sampleShape?: readonly number[];
  /** Keep a 1,000-sample replay buffer in the checkpoint (default true). */
  readonly replay?: boolean;
  /** Training samples of each of the two experiences (default 1,024). */
  readonly samples?: number;
}

const DEFAULT_LAYERS: LayerSpec[] = [
  { type: 'flatten' },
  { type: 'dense', units: 1000, activation: 'relu' },
  { type: 'dense', units: 200, activation: 'relu' },
];

/**
 * Trains a model with Adam (and by default a 1,000-sample replay buffer) for two experiences,
 * checkpointing at each experience end through the engine's writer (state capture +
 * `CheckpointStore.write`: temp directory, fsync, rename; `seconds` of the last `checkpoint` event),
 * then reads the newest checkpoint back: sha256 verification of every file (`CheckpointStore.read`
 * via `latestValidCheckpoint`), state decoding and model reconstruction.
 */
export async function checkpointBench(options: CheckpointBenchOptions = {}): Promise<CheckpointBenchResult> {
  const replay = options.replay ?? true;
  const samples = options.samples ?? 1024;
  const out = mkdtempSync(join(tmpdir(), 'engram-ckpt-bench-'));
  const doc = {
    name: 'bench-checkpoint',
    seed: 0,
    backend: 'auto',
    plugins: replay ? ['@engram/strategies'] : [],
    data: {
      kind: 'bench-random',
      warmupSamples: samples,
      samples,
      ...(options.sampleShape ? { sampleShape: [...options.sampleShape] } : {}),
    },
    model: options.model ?? { layers: options.layers ?? DEFAULT_LAYERS },
    optimizer: { type: 'adam' },
    strategy: replay ? { kind: 'replay', bufferSize: 1000 } : { kind: 'bench-naive' },
    training: { epochs: 1, batchSize: 128 },
    evaluation: { every: 'never', initial: false },
    checkpoint: { everyExperience: true, keep: 2 },
  };
  const loaded = await preparePipeline(doc, join(process.cwd(), 'bench.pipeline.json'), {
    builtins: [corePlugin, benchPlugin],
  });
  let bytes = 0;
  let writeSeconds = 0;
  let parameters = 0;
  await runPipeline(loaded, {
    outDir: out,
    observe: (events$) =>
      events$.subscribe((e) => {
        if (e.type === 'run-start') parameters = e.parameters;
        if (e.type === 'checkpoint') {
          bytes = e.bytes;
          writeSeconds = e.seconds;
        }
      }),
  });
  const t0 = performance.now();
  const checkpoint = await latestValidCheckpoint(out, () => undefined);
  const json = checkpoint.files.get('state.json');
  const bin = checkpoint.files.get('state.bin');
  if (!json || !bin) throw new Error('checkpoint without state files');
  decodeStates(new TextDecoder().decode(json), bin);
  const model = await tf.loadLayersModel(tf.io.fromMemory(checkpointModelArtifacts(checkpoint)));
  const readSeconds = (performance.now() - t0) / 1000;
  model.dispose();
  rmSync(out, { recursive: true, force: true });
  return { parameters, bytes, writeSeconds, readSeconds };
}
