import type { LayerSpec } from '@engram/core';

/** The benchmark models, identical to `torch_speed.py`'s (the head, dense 10, is appended by Engram). */
export const BENCH_MODELS: Record<'mlp' | 'cnn', LayerSpec[]> = {
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
};
