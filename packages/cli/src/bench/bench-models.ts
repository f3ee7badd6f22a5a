import type { LayerSpec } from '@engram/core';

/** Names of the benchmark models. */
export type BenchModel = 'mlp' | 'cnn' | 'mlp-big' | 'cnn-big';

/**
 * The benchmark models, identical to `bench/torch_bench.py`'s (and, for `mlp` and `cnn`, to
 * `../shared/bench/torch_speed.py`'s); the head, dense 10, is appended by Engram.
 * - `mlp`: 784-400-400-10; `cnn`: conv3×3×32–maxpool–conv3×3×64–maxpool–dense128–dense10.
 * - `mlp-big`: 784-2048-2048-2048-10, four weight layers, 10,020,874 parameters.
 * - `cnn-big`: conv3×3×64–maxpool–conv3×3×128–maxpool–conv3×3×256–dense128–dense10 (665,994 parameters).
 */
export const BENCH_MODELS: Record<BenchModel, LayerSpec[]> = {
  mlp: [
    { type: 'flatten' },
    { type: 'dense', units: 400, activation: 'relu' },
    { type: 'dense', units: 400, activation: 'relu' },
  ],
  cnn: [
    { type: 'conv2d', filters: 32, kernelSize: 3, activation: 'relu' },
    { type: 'maxPooling2d', poolSize: 2 },
    { type: 'conv2d', filters: 64, kernelSize: 3, activation: 'relu' },
    { type: 'maxPooling2d', poolSize: 2 },
    { type: 'flatten' },
    { type: 'dense', units: 128, activation: 'relu' },
  ],
  'mlp-big': [
    { type: 'flatten' },
    { type: 'dense', units: 2048, activation: 'relu' },
    { type: 'dense', units: 2048, activation: 'relu' },
    { type: 'dense', units: 2048, activation: 'relu' },
  ],
  'cnn-big': [
    { type: 'conv2d', filters: 64, kernelSize: 3, activation: 'relu' },
    { type: 'maxPooling2d', poolSize: 2 },
    { type: 'conv2d', filters: 128, kernelSize: 3, activation: 'relu' },
    { type: 'maxPooling2d', poolSize: 2 },
    { type: 'conv2d', filters: 256, kernelSize: 3, activation: 'relu' },
    { type: 'flatten' },
    { type: 'dense', units: 128, activation: 'relu' },
  ],
};
