import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { jsonSyntaxProblem } from '../pipeline/json-source.js';

/**
 * A tfjs `IOHandler` that reads a Layers-format `model.json` and its weight shards from the local
 * file system (the pure-JS tfjs has no `file://` handler without tfjs-node).
 */
export function fileModelLoader(modelJsonPath: string): tf.io.IOHandler {
  const file = resolve(modelJsonPath);
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const text = await readFile(file, 'utf8');
      let json: tf.io.ModelJSON;
      try {
        json = JSON.parse(text) as tf.io.ModelJSON;
      } catch (e) {
        // eslint-disable-next-line preserve-caught-error -- the cause quotes the file: only the position may travel
        throw new Error(`not a model.json: ${jsonSyntaxProblem(e, text)}`);
      }
      const manifest = json.weightsManifest ?? [];
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Uint8Array[] = [];
      for (const group of manifest) {
        specs.push(...group.weights);
        for (const p of group.paths) {
          if (p.includes('..') || p.startsWith('/')) throw new Error(`weight path "${p}" escapes the model folder`);
          buffers.push(await readFile(join(dirname(file), p)));
        }
      }
      const total = buffers.reduce((s, b) => s + b.byteLength, 0);
      const weightData = new Uint8Array(total);
      let o = 0;
      for (const b of buffers) {
        weightData.set(b, o);
        o += b.byteLength;
      }
      return {
        modelTopology: json.modelTopology,
        weightSpecs: specs,
        weightData: weightData.buffer,
        ...(json.format !== undefined ? { format: json.format } : {}),
        ...(json.generatedBy !== undefined ? { generatedBy: json.generatedBy } : {}),
        ...(json.convertedBy !== undefined && json.convertedBy !== null ? { convertedBy: json.convertedBy } : {}),
      };
    },
  };
}
