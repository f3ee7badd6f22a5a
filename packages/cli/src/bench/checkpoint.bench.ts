import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { checkpointModelArtifacts, corePlugin, decodeStates, latestValidCheckpoint, preparePipeline, runPipeline } from '@engram/core/internal';
import { benchPlugin } from './bench.plugin.js';

/** Size and timing of one checkpoint of a ~1M-parameter model with Adam state and a replay buffer. */
export interface CheckpointBenchResult {
  readonly parameters: number;
  readonly bytes: number;
  readonly writeSeconds: number;
  readonly readSeconds: number;
}

/**
 * Trains an MLP 784-1000-200-10 (987,210 parameters) with Adam and a 1,000-sample replay buffer for
 * two experiences, checkpointing at each experience end, then reads the newest checkpoint back:
 * checksum verification of every file, state decoding and model reconstruction.
 */
export async function checkpointBench(): Promise<CheckpointBenchResult> {
  const out = mkdtempSync(join(tmpdir(), 'engram-ckpt-bench-'));
  const doc = {
    name: 'bench-checkpoint',
    seed: 0,
    backend: 'auto',
    plugins: ['@engram/strategies'],
    data: { kind: 'bench-random', warmupSamples: 1024, samples: 1024 },
    model: { layers: [{ type: 'flatten' }, { type: 'dense', units: 1000, activation: 'relu' }, { type: 'dense', units: 200, activation: 'relu' }] },
    optimizer: { type: 'adam' },
    strategy: { kind: 'replay', bufferSize: 1000 },
    training: { epochs: 1, batchSize: 128 },
    evaluation: { every: 'never', initial: false },
    checkpoint: { everyExperience: true, keep: 2 },
  };
  const loaded = await preparePipeline(doc, join(process.cwd(), 'bench.pipeline.json'), { builtins: [corePlugin, benchPlugin] });
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
