import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  checkpointModelArtifacts,
  exportOnnx,
  type NormalizeStep,
  type VerifiedCheckpoint,
} from '@engram/core/internal';
import type { EngramExport, ExportedTransform } from './export-manifest.js';

/** What {@link writeOnnxModel} wrote. */
export interface WrittenOnnx {
  readonly file: string;
  /** True when every preprocessing step is inside the graph (the model takes raw samples). */
  readonly preprocessingInGraph: boolean;
  /** The manifest the model was written with (for `engram.json`). */
  readonly manifest: EngramExport;
}

/** The shape of a model as the manifest records it: one sample's input shape and the output units. */
export interface ModelShape {
  readonly inputShape: number[];
  readonly outputs: number;
}

function modelShape(model: tf.LayersModel): ModelShape {
  const shape = model.inputs[0]?.shape ?? [];
  const out = model.outputs[0]?.shape ?? [];
  return { inputShape: shape.slice(1).map((d) => d ?? -1), outputs: Number(out[out.length - 1] ?? 0) };
}

/** A normalize step's statistics (fitted, or given in its options), when it is one. */
function normalizeStep(t: ExportedTransform): NormalizeStep | undefined {
  if (t.kind !== 'normalize') return undefined;
  const list = (v: unknown): number[] | undefined =>
    Array.isArray(v) ? (v as number[]) : typeof v === 'number' ? [v] : undefined;
  const mean = t.fitted['mean'] ?? list(t.options['mean']);
  const std = t.fitted['std'] ?? list(t.options['std']);
  if (!mean || !std) return undefined;
  const epsilon = typeof t.options['epsilon'] === 'number' ? t.options['epsilon'] : 1e-6;
  return { mean, std, epsilon };
}

/**
 * Writes the checkpoint's model to `file` as ONNX, with the manifest `manifestOf` gives for the model's
 * shape (the model is loaded once, for both). When the run's preprocessing is only `normalize`
 * steps, they go inside the graph (the model takes raw samples, as `engram eval` reads them);
 * otherwise none does and `metadata_props` says so (`preprocessing_in_graph`). `metadata_props` also
 * carries `classes` (JSON array of names by output index), `input_layout`, `output` and `engram` (the
 * whole engram.json). Written to a temporary file and renamed into place.
 */
export async function writeOnnxModel(
  checkpoint: VerifiedCheckpoint,
  file: string,
  manifestOf: (shape: ModelShape) => EngramExport,
  options: { softmax: boolean; channelsFirst: boolean; version: string },
): Promise<WrittenOnnx> {
  const model = await tf.loadLayersModel(tf.io.fromMemory(checkpointModelArtifacts(checkpoint)));
  let bytes: Uint8Array;
  let manifest: EngramExport;
  let inGraph: boolean;
  try {
    manifest = manifestOf(modelShape(model));
    const steps = manifest.preprocessing.map(normalizeStep);
    const normalize = steps.filter((s): s is NormalizeStep => s !== undefined);
    inGraph = normalize.length === steps.length;
    const image = manifest.inputShape.length === 3;
    const layout = image ? (options.channelsFirst ? 'NCHW' : 'NHWC') : 'features';
    bytes = exportOnnx(model, {
      softmax: options.softmax,
      normalize: inGraph ? normalize : [],
      channelsFirst: options.channelsFirst,
      producerVersion: options.version,
      metadata: {
        classes: JSON.stringify(manifest.classes),
        input_layout: layout,
        output: manifest.output,
        preprocessing_in_graph: String(inGraph),
        engram: JSON.stringify(manifest),
      },
    });
  } finally {
    model.dispose();
  }
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, file);
  return { file, preprocessingInGraph: inGraph, manifest };
}
