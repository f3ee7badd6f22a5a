import { mkdtempSync, rmSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { buildModel, Rng, type EngramModel } from '@engram/core';
import { exportOnnx } from '@engram/core/internal';
import { reducedResnet18Graph } from './bench-models.js';

/** The sample shape of the model I/O bench's ResNets (CIFAR-sized colour images). */
export const MODEL_IO_SAMPLE = [32, 32, 3] as const;

/** Timings of one ONNX export and re-import of a reduced ResNet-18. */
export interface OnnxRoundTrip {
  /** Parameters of the model (weights and batch-norm statistics). */
  readonly parameters: number;
  /** Size of the `.onnx` file. */
  readonly bytes: number;
  /** `exportOnnx` of the live model, then the file written and renamed into place (as `engram export` does). */
  readonly exportSeconds: number;
  /** The file read and imported into a model (`buildModel({ load: 'x.onnx' })`, as `model.load` does). */
  readonly importSeconds: number;
  /** Largest |imported − original| logit on a few random samples (the round trip kept the function). */
  readonly maxAbsDifference: number;
}

async function resnet(nf: number, seed: number): Promise<EngramModel> {
  return buildModel(
    { graph: reducedResnet18Graph(nf) },
    { inputShape: [...MODEL_IO_SAMPLE], outputs: 10, rng: new Rng(seed), baseDir: '.' },
  );
}

/** Largest |a − b| of the two models' logits on `rows` random samples (disposes what it makes). */
function maxDifference(a: EngramModel, b: EngramModel, rows: number): number {
  return tf.tidy(() => {
    const x = tf.randomUniform([rows, ...MODEL_IO_SAMPLE], 0, 1, 'float32', 7);
    const d = tf.max(tf.abs(tf.sub(a.forward(x, { training: false }), b.forward(x, { training: false }))));
    return d.dataSync()[0] ?? NaN;
  });
}

/**
 * Builds the reduced ResNet-18 with `nf` filters in its first stage (nf = 64: 11.2M parameters, the
 * conv kernels exercise the NHWC ↔ NCHW weight transposes both ways), then `repeats` times exports it
 * to ONNX (channels-first input, as PyTorch users take it) in a temporary folder and imports the file
 * back. Each repeat is timed on its own; the bench reports the fastest. Frees every tensor and file it
 * made.
 */
export async function onnxRoundTrips(nf: number, repeats: number): Promise<OnnxRoundTrip[]> {
  const dir = mkdtempSync(join(tmpdir(), 'engram-model-io-'));
  const original = await resnet(nf, 11);
  const file = join(dir, 'resnet.onnx');
  const out: OnnxRoundTrip[] = [];
  try {
    const parameters = original.network.countParams();
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      const bytes = exportOnnx(original.network, {
        softmax: false,
        normalize: [],
        channelsFirst: true,
        metadata: {},
        producerVersion: 'bench',
      });
      const tmp = `${file}.tmp-${process.pid}`;
      await writeFile(tmp, bytes);
      await rename(tmp, file);
      const t1 = performance.now();
      const imported = await buildModel(
        { load: file },
        { inputShape: [...MODEL_IO_SAMPLE], outputs: 10, rng: new Rng(0), baseDir: dir },
      );
      const t2 = performance.now();
      try {
        out.push({
          parameters,
          bytes: bytes.byteLength,
          exportSeconds: (t1 - t0) / 1000,
          importSeconds: (t2 - t1) / 1000,
          maxAbsDifference: maxDifference(original, imported, 2),
        });
      } finally {
        imported.dispose();
      }
    }
    return out;
  } finally {
    original.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
