import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  buildModel,
  crossEntropy,
  Rng,
  type Batch,
  type BatchSource,
  type Experience,
  type Transform,
} from '@engram/core';
import {
  encodePng,
  HorizontalFlipTransform,
  idxToImageFolder,
  imageFolderDescriptor,
  RandomCropTransform,
  type ImageFolderSource,
} from '@engram/datasets';
import { accelerated } from './bare-loop.bench.js';
import { BENCH_MODELS } from './bench-models.js';
import type { BenchOptions } from './bench-options.js';
import { RoundLog } from './round-log.js';
import { put, type BenchRow, type JsonObject } from './bench-report.js';

const FMNIST = '/usr/share/datasets/fashion-mnist';
/** Decode threads of the measurement (the target: < 5 % data wait at 2 threads). */
export const IMAGE_THREADS = 2;

/** Writes `count` 28x28 grey PNGs under `dir/<label>/`: Fashion-MNIST's first images when installed. */
async function writeTree(dir: string, count: number): Promise<void> {
  if (existsSync(join(FMNIST, 'train-images-idx3-ubyte.gz'))) {
    await idxToImageFolder({
      images: join(FMNIST, 'train-images-idx3-ubyte.gz'),
      labels: join(FMNIST, 'train-labels-idx1-ubyte.gz'),
      out: dir,
      limit: count,
    });
    return;
  }
  const rng = new Rng(3);
  for (let i = 0; i < count; i++) {
    const label = i % 10;
    mkdirSync(join(dir, String(label)), { recursive: true });
    const px = Uint8Array.from({ length: 784 }, () => rng.int(256));
    writeFileSync(join(dir, String(label), `${i}.png`), encodePng(28, 28, 1, px));
  }
}

/** One pass over the tree's training batches (batch 128), augmented; `train` runs on each batch. */
async function pass(
  root: string,
  train: (b: Batch) => void,
): Promise<{ images: number; seconds: number; waitMs: number }> {
  const rng = new Rng(5);
  const source = imageFolderDescriptor.create?.(
    {
      root,
      channels: 'grayscale',
      threads: IMAGE_THREADS,
      prefetch: 4,
      cache: false,
      scale: 1 / 255,
      testFraction: 0.01,
      scenario: { type: 'data-incremental', experiences: 1 },
    },
    { rng, seed: 5, baseDir: '.', path: '/data', events: { emit: () => undefined } },
  ) as ImageFolderSource;
  const augment: Transform[] = [
    new RandomCropTransform({ padding: 2 }, rng.derive('crop')),
    new HorizontalFlipTransform({ p: 0.5 }, rng.derive('flip')),
  ];
  const exp = (await source.scenarioReady()).experiences[0] as Experience;
  const data: BatchSource = exp.train;
  // Timed from the first batch on: the workers' start-up (loading sharp) is a one-off of a run.
  let images = 0;
  let t0 = NaN;
  let wait0 = 0;
  for await (let b of data.batches({ batchSize: 128, shuffle: true, epoch: 0, seed: 5 })) {
    if (Number.isNaN(t0)) {
      t0 = performance.now();
      wait0 = source.stats.waitMs;
    } else images += b.y.length;
    for (const t of augment) b = t.apply(b, 'train');
    train(b);
  }
  const seconds = (performance.now() - t0) / 1000;
  const waitMs = source.stats.waitMs - wait0;
  await source.close();
  return { images, seconds, waitMs };
}

/**
 * The image-folder pipeline: `imagesPerSecond` — PNGs decoded (2 worker threads) and augmented
 * (random crop, flip) per second with nobody training; `dataWaitFraction` — the share of wall time a
 * training loop of the bench CNN (Adam, batch 128) waits for its next batch, at 2 decode threads. Medians
 * over rounds; also `images.{count, threads}`.
 */
export async function imagesSection(
  o: BenchOptions,
  json: JsonObject,
  rows: BenchRow[],
  logs: RoundLog[],
): Promise<void> {
  const count = o.quick ? 256 : 4096;
  const dir = mkdtempSync(join(tmpdir(), 'engram-bench-images-'));
  const log = new RoundLog('images');
  logs.push(log);
  try {
    await writeTree(dir, count);
    const net = await buildModel(
      { layers: BENCH_MODELS.cnn },
      { inputShape: [28, 28, 1], outputs: 10, rng: new Rng(0), baseDir: '.' },
    );
    const optimizer = await accelerated(tf.train.adam(1e-3));
    const step = (b: Batch): void => {
      const x = tf.tensor4d(b.x, [b.y.length, 28, 28, 1]);
      const y = tf.tensor1d(b.y, 'int32');
      const { value, grads } = tf.variableGrads(
        () => crossEntropy(net.forward(x, { training: true }) as tf.Tensor2D, y),
        net.trainableVariables(),
      );
      optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
      value.dataSync();
      tf.dispose([value, x, y, ...Object.values(grads)]);
    };
    for (let r = 0; r < o.repeats; r++) {
      await log.round(async (record) => {
        const decode = await pass(dir, () => undefined);
        record('imagesPerSecond', decode.images / decode.seconds);
        const trained = await pass(dir, step);
        record('dataWaitFraction', trained.waitMs / 1000 / trained.seconds);
      });
    }
    optimizer.dispose();
    net.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  put(json, 'imagesPerSecond', log.value('imagesPerSecond'));
  put(json, 'dataWaitFraction', log.value('dataWaitFraction'));
  json['images'] = { count, threads: IMAGE_THREADS, model: 'cnn', batch: 128 };
  const ips = log.value('imagesPerSecond');
  if (!Number.isNaN(ips))
    rows.push({ name: `image-folder decode+augment (${IMAGE_THREADS} threads)`, value: ips, unit: 'images/s' });
  const wait = log.value('dataWaitFraction');
  if (!Number.isNaN(wait)) rows.push({ name: 'image-folder cnn data wait', value: wait * 100, unit: '%' });
}
