import { mkdir } from 'node:fs/promises';
import { writeFileAtomic } from '@engram/core/internal';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { checkpointModelArtifacts, type VerifiedCheckpoint } from '@engram/core/internal';

/** What {@link writeExportModel} wrote. */
export interface WrittenModel {
  readonly modelFile: string;
  readonly inputShape: number[];
  readonly outputs: number;
}

/**
 * Writes the checkpoint's model to `dir` as tfjs Layers files (`model.json` + `weights.bin`), which
 * `tf.loadLayersModel` reads with nothing of Engram installed. With `softmax`, every output gets a
 * softmax layer, so the model returns probabilities instead of logits.
 */
export async function writeExportModel(
  checkpoint: VerifiedCheckpoint,
  dir: string,
  softmax: boolean,
): Promise<WrittenModel> {
  const loaded = await tf.loadLayersModel(tf.io.fromMemory(checkpointModelArtifacts(checkpoint)));
  let model = loaded;
  if (softmax) {
    const outputs = loaded.outputs.map(
      (o, i) =>
        tf.layers.activation({ activation: 'softmax', name: `engram_softmax_${i}` }).apply(o) as tf.SymbolicTensor,
    );
    model = tf.model({
      inputs: loaded.inputs,
      outputs: outputs.length === 1 ? (outputs[0] as tf.SymbolicTensor) : outputs,
    });
  }
  await mkdir(dir, { recursive: true });
  const modelFile = join(dir, 'model.json');
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const data = a.weightData;
      const bytes =
        data === undefined
          ? new Uint8Array(0)
          : new Uint8Array(tf.io.concatenateArrayBuffers(Array.isArray(data) ? data : [data]));
      await writeFileAtomic(join(dir, 'weights.bin'), bytes);
      const json = {
        modelTopology: a.modelTopology,
        format: 'layers-model',
        generatedBy: a.generatedBy,
        convertedBy: 'Engram export',
        weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs ?? [] }],
      };
      await writeFileAtomic(modelFile, JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const shape = loaded.inputs[0]?.shape ?? [];
  const out = loaded.outputs[0]?.shape ?? [];
  const result = {
    modelFile,
    inputShape: shape.slice(1).map((d) => d ?? -1),
    outputs: Number(out[out.length - 1] ?? 0),
  };
  model.dispose();
  return result;
}
