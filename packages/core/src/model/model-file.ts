import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { PipelineError } from '../plugin-api/pipeline-error.js';
import { fileModelLoader } from './file-io.js';
import { importOnnx } from './onnx/onnx-import.js';

/**
 * Reads the model file a pipeline's `model.load` names (`file`, already resolved against the pipeline's
 * folder): an `.onnx` file imported channels-last (see docs/onnx.md), else a tfjs Layers `model.json`
 * with its weight files. A file that cannot be read or parsed is a {@link PipelineError} at
 * `/model/load` naming it (exit 2). Called by the model builder of a run and by `engram validate`'s
 * check of the loaded model's topology; the caller owns (and disposes) the returned network.
 */
export async function readModelFile(file: string): Promise<tf.LayersModel> {
  try {
    // A backend that initialises asynchronously (wasm) must be ready before variables are made.
    await tf.ready();
    return file.toLowerCase().endsWith('.onnx')
      ? importOnnx(await readFile(file)).model
      : await tf.loadLayersModel(fileModelLoader(file));
  } catch (e) {
    throw PipelineError.at('/model/load', `cannot load ${file}: ${(e as Error).message.split('\n')[0] ?? ''}`);
  }
}
