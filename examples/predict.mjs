// examples/predict.mjs: an Engram export, scored with plain TensorFlow.js (no Engram import).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

const dir = process.argv[2] ?? 'model';
const meta = JSON.parse(readFileSync(join(dir, 'engram.json'), 'utf8'));
const { modelTopology, weightsManifest } = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
const bin = readFileSync(join(dir, 'weights.bin'));
const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology, weightSpecs: weightsManifest[0].weights, weightData }));

// Engram's preprocessing, replayed: normalize with its fitted (or given) mean and std.
function preprocess(x) {
  for (const t of meta.preprocessing) {
    if (t.kind !== 'normalize') throw new Error(`preprocessing "${t.kind}" is not replayed here`);
    const mean = t.fitted.mean ?? [t.options.mean].flat();
    const std = t.fitted.std ?? [t.options.std].flat();
    x = x.map((v, i) => (v - mean[i % mean.length]) / (std[i % std.length] + (t.options.epsilon ?? 1e-6)));
  }
  return x;
}

const samples = readFileSync(join(dir, 'test.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const right = [], count = [];
for (let i = 0; i < samples.length; i += 256) {
  const batch = samples.slice(i, i + 256);
  const x = tf.tensor(batch.flatMap((s) => preprocess(s.x)), [batch.length, ...meta.inputShape]);
  const outputs = [model.predict(x)].flat();
  // Hedge: mix the heads' probabilities with its weights; otherwise the one output.
  const probs = (o) => (meta.output === 'logits' ? tf.softmax(o) : o);
  const scores = meta.hedge ? tf.addN(outputs.map((o, l) => tf.mul(probs(o), meta.hedge.weights[l]))) : outputs[0];
  const rows = await scores.array();
  batch.forEach((s, k) => {
    // Multi-head: only the classes of the sample's task compete.
    const row = rows[k].map((v, c) => (meta.heads?.[s.task] && !meta.heads[s.task].includes(c) ? -Infinity : v));
    const e = s.experience;
    right[e] = (right[e] ?? 0) + (row.indexOf(Math.max(...row)) === s.y ? 1 : 0);
    count[e] = (count[e] ?? 0) + 1;
  });
  tf.dispose([x, ...outputs, scores]);
}
const accuracy = count.map((n, e) => right[e] / n);
console.log(`accuracy per experience (%): ${accuracy.map((a) => (a * 100).toFixed(1)).join(' ')}`);
console.log(`average accuracy ${((accuracy.reduce((a, b) => a + b, 0) / accuracy.length) * 100).toFixed(2)}%`);
