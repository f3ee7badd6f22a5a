import * as tf from '@tensorflow/tfjs';
import type { EngramModel } from '../plugin-api/engram-model.js';
import type { PipelineDefinition } from '../pipeline/pipeline-definition.js';
import type { SerializedState } from '../plugin-api/serialized-state.js';
import { firstNonFinite } from '../training/numeric-guard.js';
import { NumericalError } from '../training/trainer.js';
import type { CheckpointFile } from './checkpoint.store.js';
import type { RunJson } from './run-json.js';
import { CorruptCheckpointError } from './checkpoint.store.js';
import { decodeStates, encodeStateParts } from './state-codec.js';
import { upgradeV1 } from './checkpoint-v1.js';
import { checkCursorState, parseRunJson, parseRunJsonV1 } from './run-json.schema.js';

export type { MetricsLog, MetricsMark, RunJson } from './run-json.js';

/** A decoded checkpoint: its `run.json`, every registered part's state by JSON pointer, and the model. */
export interface DecodedCheckpoint {
  readonly run: RunJson;
  readonly states: Map<string, SerializedState>;
  readonly model: tf.io.ModelArtifacts;
}

/** The model of a checkpoint as tfjs Layers files: `model.json` naming `weightsPath`, and the weights. */
export function layersModelFiles(
  artifacts: tf.io.ModelArtifacts,
  weightsPath = 'weights.bin',
): { json: string; weights: Uint8Array } {
  const data = artifacts.weightData;
  // tfjs hands one buffer for a whole model (no copy then); only a list of buffers is joined.
  const weights =
    data === undefined
      ? new Uint8Array(0)
      : new Uint8Array(Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data);
  const json = JSON.stringify({
    modelTopology: artifacts.modelTopology,
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    convertedBy: 'Engram',
    weightsManifest: [{ paths: [weightsPath], weights: artifacts.weightSpecs ?? [] }],
  });
  return { json, weights };
}

/** The model artifacts of a checkpoint's `model/` files (nothing in them is executed). */
export function modelArtifactsOf(files: ReadonlyMap<string, Uint8Array>, dir: string): tf.io.ModelArtifacts {
  const json = files.get('model/model.json');
  const weights = files.get('model/weights.bin');
  if (!json || !weights) throw new CorruptCheckpointError(`${dir}: has no model`);
  let modelJson: tf.io.ModelJSON;
  try {
    modelJson = JSON.parse(new TextDecoder().decode(json)) as tf.io.ModelJSON;
  } catch (e) {
    throw new CorruptCheckpointError(`${dir}: model/model.json: ${(e as Error).message}`);
  }
  // The file's own buffer when the bytes fill it (a whole-file read), else a copy of just these bytes.
  const whole =
    weights.byteOffset === 0 &&
    weights.byteLength === weights.buffer.byteLength &&
    weights.buffer instanceof ArrayBuffer;
  return {
    modelTopology: modelJson.modelTopology,
    weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights),
    weightData: whole ? weights.buffer : weights.slice().buffer,
  };
}

/**
 * Refuses to checkpoint non-finite float32 weights: throws {@link NumericalError} naming the weight
 * and `where`, so the last good checkpoint stays the newest.
 */
function assertFiniteWeights(bytes: Uint8Array, specs: readonly tf.io.WeightsManifestEntry[], where: string): void {
  let offset = 0;
  for (const spec of specs) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    if (spec.dtype === 'float32') {
      const start = bytes.byteOffset + offset;
      const values =
        start % 4 === 0
          ? new Float32Array(bytes.buffer, start, n)
          : new Float32Array(bytes.slice(offset, offset + n * 4).buffer);
      if (firstNonFinite(values) >= 0) {
        throw new NumericalError(
          `weight ${spec.name} is not finite at ${where}; no checkpoint written, the last good one is kept`,
        );
      }
    }
    offset += n * 4;
  }
}

/**
 * Captures a run as checkpoint files: `model/` in tfjs Layers format, `state.json` + `state.bin`
 * with every registered part's state under its JSON pointer (the run's `CheckpointRegistry`), and
 * `run.json`. JSON and raw little-endian arrays only. `where` names the cursor in error messages.
 */
export async function captureCheckpoint(
  model: EngramModel,
  states: ReadonlyMap<string, SerializedState>,
  run: RunJson,
  where: string,
): Promise<CheckpointFile[]> {
  const files: CheckpointFile[] = [];
  await model.network.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const { json, weights } = layersModelFiles(artifacts);
      assertFiniteWeights(weights, artifacts.weightSpecs ?? [], where);
      files.push({ path: 'model/weights.bin', data: weights }, { path: 'model/model.json', data: json });
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const encoded = encodeStateParts(Object.fromEntries(states));
  files.push(
    { path: 'state.bin', data: encoded.parts },
    { path: 'state.json', data: encoded.json },
    { path: 'run.json', data: JSON.stringify(run) },
  );
  return files;
}

function text(files: ReadonlyMap<string, Uint8Array>, path: string, dir: string): string {
  const data = files.get(path);
  if (!data) throw new CorruptCheckpointError(`${dir}: has no ${path}`);
  return new TextDecoder().decode(data);
}

/**
 * Decodes a verified checkpoint's files. Format 1 (state keys such as `strategy:0:ewc`, cursor and
 * RNGs in run.json) is upgraded to format 2's pointers for `pipeline` (the run's definition).
 * Throws {@link CorruptCheckpointError} for unreadable content.
 */
export function decodeCheckpoint(
  files: ReadonlyMap<string, Uint8Array>,
  format: number,
  dir: string,
  pipeline: PipelineDefinition,
): DecodedCheckpoint {
  try {
    const runText = text(files, 'run.json', dir);
    const states = decodeStates(text(files, 'state.json', dir), files.get('state.bin') ?? new Uint8Array(0));
    const model = modelArtifactsOf(files, dir);
    if (format === 1) {
      const upgraded = upgradeV1(parseRunJsonV1(runText, dir), states, pipeline);
      checkCursorState(upgraded.states.get('/run/cursor')?.meta, dir);
      return { ...upgraded, model };
    }
    const run = parseRunJson(runText, dir);
    const map = new Map(Object.entries(states));
    checkCursorState(map.get('/run/cursor')?.meta, dir);
    return { run, states: map, model };
  } catch (e) {
    if (e instanceof CorruptCheckpointError) throw e;
    throw new CorruptCheckpointError(`${dir}: ${(e as Error).message}`);
  }
}
