import { existsSync } from 'node:fs';
import { writeFileAtomic } from '@engram/core/internal';
import { dirname, join } from 'node:path';
import { CorruptCheckpointError, latestValidCheckpoint } from '@engram/core';
import { loadPipelineFile, VERSION } from '../cli-context.js';
import { exportManifest } from '../export/export-manifest.js';
import { writeExportModel } from '../export/export-model.js';
import { writeOnnxModel, type ModelShape } from '../export/export-onnx.js';
import { writeTestData } from '../export/test-data.js';

/** Flags of `engram export`. */
export interface ExportFlags {
  /** Output folder (or a `model.json` path, whose folder is used). */
  to: string;
  /** Append a softmax to every output (probabilities instead of logits). */
  softmax?: boolean;
  /** `tfjs` (model.json + weights.bin, the default) or `onnx` (model.onnx). */
  format?: string;
  /** ONNX image models take `[N, C, H, W]` (PyTorch's layout) instead of `[N, H, W, C]`. */
  channelsFirst?: boolean;
  /** Also write this pipeline's test sets to `test.jsonl` beside the model. */
  testData?: string;
  plugin?: string[];
  /** `--set path=value` overrides applied to the `--test-data` pipeline. */
  set?: string[];
}

/** Indented JSON with arrays of numbers or strings kept on one line (mean/std vectors stay readable). */
function compactJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /\[\n\s+([^[\]{}]*?)\n\s*\]/g,
    (_m, inner: string) => `[${inner.split(/,\n\s+/).join(', ')}]`,
  );
}

/** The run folder a checkpoint path belongs to (for summary.json and metrics.jsonl), if it is one. */
function runFolder(path: string): string | undefined {
  for (const dir of [path, dirname(path), dirname(dirname(path))])
    if (existsSync(join(dir, 'summary.json')) || existsSync(join(dir, 'metrics.jsonl'))) return dir;
  return undefined;
}

/**
 * `engram export <dir> --to <folder>`: writes the model of the newest valid checkpoint under `dir` (a
 * run's output folder, its checkpoints folder, or one checkpoint) in tfjs Layers format — which
 * `tf.loadLayersModel` reads without Engram — or, with `--format onnx`, as `model.onnx` (normalisation
 * inside the graph, see docs/onnx.md) — and `engram.json` beside it: classes, input shape,
 * preprocessing with fitted statistics, multi-head task classes, Hedge mixing weights and the run's
 * metrics. `--softmax` makes the model output probabilities; `--test-data <pipeline>` writes the
 * pipeline's test sets to `test.jsonl`. Exit 2 when there is no valid checkpoint.
 */
export async function exportCommand(dir: string, flags: ExportFlags): Promise<number> {
  try {
    const checkpoint = await latestValidCheckpoint(dir, (m) => process.stderr.write(`warning: ${m}\n`));
    const format = flags.format ?? 'tfjs';
    if (format !== 'tfjs' && format !== 'onnx') {
      process.stderr.write(`error: --format ${format}: use tfjs or onnx\n`);
      return 2;
    }
    const onnx = format === 'onnx';
    const folder = flags.to.endsWith('.json') || (onnx && flags.to.endsWith('.onnx')) ? dirname(flags.to) : flags.to;
    const softmax = flags.softmax === true;
    const manifestOf = (model: ModelShape): ReturnType<typeof exportManifest> =>
      exportManifest(checkpoint, runFolder(dir), {
        softmax,
        version: VERSION,
        numOutputs: model.outputs,
        inputShape: model.inputShape,
      });
    let modelFile = join(folder, 'model.json');
    let manifest: ReturnType<typeof exportManifest>;
    if (onnx) {
      modelFile = flags.to.endsWith('.onnx') ? flags.to : join(folder, 'model.onnx');
      const written = await writeOnnxModel(checkpoint, modelFile, manifestOf, {
        softmax,
        channelsFirst: flags.channelsFirst === true,
        version: VERSION,
      });
      manifest = written.manifest;
      if (!written.preprocessingInGraph)
        process.stderr.write(
          "warning: the preprocessing is not only normalize steps, so it is not in the ONNX graph: apply engram.json's preprocessing before the model\n",
        );
    } else manifest = manifestOf(await writeExportModel(checkpoint, folder, softmax));
    await writeFileAtomic(join(folder, 'engram.json'), `${compactJson(manifest)}\n`);
    process.stdout.write(
      `exported ${checkpoint.dir} (step ${checkpoint.step}) to ${modelFile} and ${join(folder, 'engram.json')}\n`,
    );
    if (flags.testData) {
      const loaded = await loadPipelineFile(flags.testData, flags.plugin ?? [], false, flags.set ?? []);
      const n = await writeTestData(loaded, join(folder, 'test.jsonl'));
      process.stdout.write(`wrote ${n} test samples to ${join(folder, 'test.jsonl')}\n`);
    }
    return 0;
  } catch (e) {
    if (!(e instanceof CorruptCheckpointError)) throw e;
    process.stderr.write(`error: ${e.message}\n`);
    return 2;
  }
}
