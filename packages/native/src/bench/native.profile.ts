/**
 * Per-kernel profile of one training step (wasm + native kernels): where a step's time goes, to pick
 * the next kernel to write. Usage: node dist/bench/native.profile.js [--models mlp,cnn] [--steps 5] [--layers]
 * `--layers` profiles the models the engine really trains (tfjs-layers, built by core, backend chosen
 * by core's selector with its wasm gradient rewrites) instead of the hand-built fused-op models.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '@engram/core';
import { useWasmNative } from '../testing/backend-harness.js';
import { accelerateOptimizer } from '../optimizers/optimizer-patch.js';
import { createCnn, createMlp, syntheticBatch, trainStep, type TrainableModel } from '../testing/bench-models.js';
import { buildLayersModel, layersTrainStep, LAYERS_CNN, LAYERS_MLP } from '../testing/layers-models.js';

function arg(flag: string, fallback: string): string {
  const i = process.argv.indexOf(flag);
  return (i >= 0 ? process.argv[i + 1] : undefined) ?? fallback;
}

const layersMode = process.argv.includes('--layers');

/** A step closure over one model, optimizer and fixed batch, plus what to free afterwards. */
interface Profiled {
  step(): void;
  dispose(): void;
}

async function prepare(name: string): Promise<Profiled> {
  const opt = accelerateOptimizer(tf.train.adam(1e-3));
  const batch = syntheticBatch(128, 784, 10, 2);
  const x = name === 'mlp' ? batch.x : batch.x.reshape([128, 28, 28, 1]);
  if (layersMode) {
    const model = await buildLayersModel(name === 'mlp' ? LAYERS_MLP : LAYERS_CNN, 0);
    const labels = tf.argMax<tf.Tensor1D>(batch.y, 1);
    return {
      step: () => void layersTrainStep(model, opt, x, labels),
      dispose: () => {
        model.dispose();
        opt.dispose();
        tf.dispose([x, labels, batch.x, batch.y]);
      },
    };
  }
  const model: TrainableModel & { dispose(): void } = name === 'mlp' ? createMlp([784, 400, 400, 10], 1) : createCnn(1);
  return {
    step: () => void trainStep(model, opt, x, batch.y),
    dispose: () => {
      model.dispose();
      opt.dispose();
      tf.dispose([x, batch.x, batch.y]);
    },
  };
}

async function profileModel(name: string, steps: number): Promise<void> {
  const run = await prepare(name);
  for (let i = 0; i < 3; i++) run.step();
  const perKernel = new Map<string, { ms: number; calls: number }>();
  let wall = 0;
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    const info = await tf.profile(() => run.step());
    wall += performance.now() - t0;
    for (const k of info.kernels) {
      const entry = perKernel.get(k.name) ?? { ms: 0, calls: 0 };
      entry.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      entry.calls += 1;
      perKernel.set(k.name, entry);
    }
  }
  const rows = [...perKernel].sort((p, q) => q[1].ms - p[1].ms).slice(0, 18);
  const kernelMs = [...perKernel.values()].reduce((sum, e) => sum + e.ms, 0) / steps;
  console.log(
    `${name}${layersMode ? ' (layers)' : ''}: ${(wall / steps).toFixed(1)} ms/step profiled, ${kernelMs.toFixed(1)} ms in kernels`,
  );
  for (const [kernel, e] of rows) {
    console.log(`  ${kernel.padEnd(28)} ${(e.ms / steps).toFixed(2).padStart(8)} ms  ×${(e.calls / steps).toFixed(0)}`);
  }
  // Unprofiled wall time per step (tf.profile adds its own overhead).
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) run.step();
  console.log(`  unprofiled: ${((performance.now() - t0) / steps).toFixed(1)} ms/step`);
  run.dispose();
}

const backend = layersMode ? (await selectBackend('wasm')).description : undefined;
const loaded = layersMode ? undefined : await useWasmNative();
console.log(backend ?? (loaded?.loaded ? `wasm+${loaded.description}` : `wasm (${loaded?.description ?? ''})`));
for (const name of arg('--models', 'mlp,cnn').split(',')) await profileModel(name, Number(arg('--steps', '5')));
