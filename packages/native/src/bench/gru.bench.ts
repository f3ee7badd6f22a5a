/**
 * In-process timing of the bench GRU classifier (embedding 1,000×64 → EngramGRU 128, reset-after,
 * sigmoid gates → dense 10; sequences of 32 tokens; Adam 1e-3) on wasm + native: the fused sequence
 * op against the unrolled tfjs loop (`fastPath` 'always' vs 'never'), alternated in blocks so both see the same
 * machine load. Prints samples/s per block and the median ratio.
 *
 * Usage: node dist/bench/gru.bench.js [--batches 32,128] [--steps 10] [--rounds 3] [--ops] [--json]
 *        (--steps 2 --rounds 1 is a smoke run; --ops removes the native GRU kernels, so the fused op
 *        runs as tfjs ops, as on a backend without them)
 */
import * as tf from '@tensorflow/tfjs';
import { buildModel, Rng, selectBackend, type EngramModel } from '@engram/core';
import { GruResetAfter } from '@engram/core/internal';
import { accelerateOptimizer } from '../index.js';
import { GRU_SEQUENCE_GRAD_KERNEL, GRU_SEQUENCE_KERNEL } from '../kernels/gru-kernels.js';
import { layersTrainStep } from '../testing/layers-models.js';

const SIZES = { vocabulary: 1000, sequence: 32, embedding: 64, units: 128, classes: 10 } as const;

function option(argv: readonly string[], flag: string, fallback: string): string {
  const i = argv.indexOf(flag);
  return (i >= 0 ? argv[i + 1] : undefined) ?? fallback;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

function buildGru(): Promise<EngramModel> {
  return buildModel(
    {
      graph: {
        nodes: [
          {
            name: 'tokens',
            type: 'embedding',
            inputDim: SIZES.vocabulary,
            outputDim: SIZES.embedding,
            inputs: ['input'],
          },
          {
            name: 'gru',
            type: 'gru',
            units: SIZES.units,
            recurrentActivation: 'sigmoid',
            resetAfter: true,
            inputs: ['tokens'],
          },
        ],
      },
    },
    { inputShape: [SIZES.sequence], outputs: SIZES.classes, rng: new Rng(1), baseDir: '.' },
  );
}

/** samples/s of `steps` training steps at `batch` (after one warm-up step) with the fused op on or off. */
function timeBlock(model: EngramModel, layer: GruResetAfter, fast: boolean, batch: number, steps: number): number {
  layer.fastPath = fast ? 'always' : 'never';
  const rng = new Rng(batch);
  const x = tf.tensor2d(
    Float32Array.from({ length: batch * SIZES.sequence }, () => rng.int(SIZES.vocabulary)),
    [batch, SIZES.sequence],
  );
  const labels = tf.tensor1d(
    Int32Array.from({ length: batch }, () => rng.int(SIZES.classes)),
    'int32',
  );
  const optimizer = accelerateOptimizer(tf.train.adam(1e-3));
  layersTrainStep(model, optimizer, x, labels);
  const start = performance.now();
  for (let i = 0; i < steps; i++) layersTrainStep(model, optimizer, x, labels);
  const seconds = (performance.now() - start) / 1000;
  optimizer.dispose();
  tf.dispose([x, labels]);
  return (steps * batch) / seconds;
}

async function main(argv: readonly string[]): Promise<void> {
  // As `engram run` sets it up: wasm, core's kernel rewrites (e.g. the embedding's gradient), native kernels.
  const backend = (await selectBackend('wasm')).description;
  if (argv.includes('--ops'))
    for (const name of [GRU_SEQUENCE_KERNEL, GRU_SEQUENCE_GRAD_KERNEL]) tf.unregisterKernel(name, 'wasm');
  const batches = option(argv, '--batches', '32,128').split(',').map(Number);
  const steps = Number(option(argv, '--steps', '10'));
  const rounds = Number(option(argv, '--rounds', '3'));
  const model = await buildGru();
  const layer = model.network.layers.find((l): l is GruResetAfter => l instanceof GruResetAfter);
  if (!layer) throw new Error('no EngramGRU in the bench model');
  const results: Record<string, { fused: number[]; unrolled: number[]; ratio: number }> = {};
  for (const batch of batches) {
    const fused: number[] = [];
    const unrolled: number[] = [];
    for (let round = 0; round < rounds; round++) {
      unrolled.push(timeBlock(model, layer, false, batch, steps));
      fused.push(timeBlock(model, layer, true, batch, steps));
    }
    results[`batch${batch}`] = { fused, unrolled, ratio: median(fused) / median(unrolled) };
  }
  const load = (await import('node:os')).loadavg().map((v) => v.toFixed(2));
  if (argv.includes('--json')) console.log(JSON.stringify({ ...results, loadavg: load, backend }));
  else {
    for (const [key, r] of Object.entries(results)) {
      const fmt = (xs: number[]): string => xs.map((v) => v.toFixed(0)).join(', ');
      console.log(
        `${key}: unrolled ${fmt(r.unrolled)} samples/s; fused ${fmt(r.fused)}; median ratio ${r.ratio.toFixed(2)}×`,
      );
    }
    console.log(`load average ${load.join(' ')}; ${backend}`);
  }
  model.dispose();
}

await main(process.argv.slice(2));
