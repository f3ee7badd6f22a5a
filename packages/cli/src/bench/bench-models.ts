import {
  buildModel,
  Rng,
  type EngramModel,
  type GraphNodeSpec,
  type GraphSpec,
  type LayerSpec,
  type ModelSpec,
} from '@engram/core';

/** Names of the benchmark models. */
export type BenchModel = StackBenchModel | 'resnet' | 'gru';

/** The benchmark models that are layer stacks over 28×28×1 images. */
export type StackBenchModel = 'mlp' | 'cnn' | 'mlp-big' | 'cnn-big';

/**
 * The layer-stack benchmark models, identical to `bench/torch_bench.py`'s (and, for `mlp` and `cnn`,
 * to `../shared/bench/torch_speed.py`'s); the head, dense 10, is appended by Engram.
 * - `mlp`: 784-400-400-10; `cnn`: conv3×3×32–maxpool–conv3×3×64–maxpool–dense128–dense10.
 * - `mlp-big`: 784-2048-2048-2048-10, four weight layers, 10,020,874 parameters.
 * - `cnn-big`: conv3×3×64–maxpool–conv3×3×128–maxpool–conv3×3×256–dense128–dense10 (665,994 parameters).
 */
export const BENCH_MODELS: Record<StackBenchModel, LayerSpec[]> = {
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

/** The GRU benchmark's sizes: token ids of a vocabulary of 1,000, sequences of 32 (as torch_bench.py's `gru`). */
export const GRU_BENCH = { vocabulary: 1000, sequence: 32, embedding: 64, units: 128 } as const;

/**
 * The reduced ResNet-18 of GEM/A-GEM (Lopez-Paz & Ranzato 2017; Avalanche's and Mammoth's `ResNet18`
 * with `nf`): a 3×3 stem of `nf` filters, four stages of two basic blocks with `nf`, 2`nf`, 4`nf`, 8`nf`
 * filters (stride 2 from the second stage, as torch's `padding=1` — an explicit 1-pixel zero padding and
 * a `valid` convolution, since tfjs' `same` pads stride-2 convolutions asymmetrically), batch norm after
 * every convolution (torch's momentum 0.1 is tfjs' 0.9, ε 1e-5), a 1×1 convolution + batch norm on the
 * shortcut where the shape changes, and global average pooling. The head (dense `classes`) is appended by
 * Engram. `examples/models/reduced-resnet18.graph.json` is this graph with `nf` = 20.
 */
export function reducedResnet18Graph(nf = 20): GraphSpec {
  const nodes: GraphNodeSpec[] = [];
  const bn = (name: string, input: string): void =>
    void nodes.push({ name, type: 'batchNormalization', momentum: 0.9, epsilon: 1e-5, inputs: [input] });
  const conv = (name: string, input: string, filters: number, kernelSize: number, strides: number): void =>
    void nodes.push({
      name,
      type: 'conv2d',
      filters,
      kernelSize,
      strides,
      padding: kernelSize === 3 && strides === 1 ? 'same' : 'valid',
      useBias: false,
      inputs: [input],
    });
  const relu = (name: string, input: string): void =>
    void nodes.push({ name, type: 'activation', activation: 'relu', inputs: [input] });
  conv('stem_conv', 'input', nf, 3, 1);
  bn('stem_bn', 'stem_conv');
  relu('stem_relu', 'stem_bn');
  let last = 'stem_relu';
  let width = nf;
  for (let stage = 1; stage <= 4; stage++) {
    const filters = nf * 2 ** (stage - 1);
    for (let block = 1; block <= 2; block++) {
      const p = `s${stage}b${block}`;
      const strides = stage > 1 && block === 1 ? 2 : 1;
      if (strides === 2) {
        nodes.push({ name: `${p}_conv1_pad`, type: 'zeroPadding2d', padding: 1, inputs: [last] });
        conv(`${p}_conv1`, `${p}_conv1_pad`, filters, 3, 2);
      } else conv(`${p}_conv1`, last, filters, 3, 1);
      bn(`${p}_bn1`, `${p}_conv1`);
      relu(`${p}_relu1`, `${p}_bn1`);
      conv(`${p}_conv2`, `${p}_relu1`, filters, 3, 1);
      bn(`${p}_bn2`, `${p}_conv2`);
      let shortcut = last;
      if (strides !== 1 || width !== filters) {
        conv(`${p}_short_conv`, last, filters, 1, strides);
        bn(`${p}_short_bn`, `${p}_short_conv`);
        shortcut = `${p}_short_bn`;
      }
      nodes.push({ name: `${p}_add`, type: 'add', inputs: [`${p}_bn2`, shortcut] });
      relu(`${p}_out`, `${p}_add`);
      last = `${p}_out`;
      width = filters;
    }
  }
  nodes.push({ name: 'pool', type: 'globalAveragePooling2d', inputs: [last] });
  return { input: 'input', output: 'pool', nodes };
}

/** A benchmark model as a pipeline's `model`, with the shape of one sample and, for token models, the vocabulary. */
export interface BenchModelSpec {
  readonly model: ModelSpec;
  readonly sampleShape: readonly number[];
  /** Token models: samples are ids below this (stored as floats, as a CSV source gives them). */
  readonly vocabulary?: number;
}

/**
 * The pipeline `model` and sample shape of a benchmark model: 28×28×1 images for the stacks, 32×32×3
 * for the reduced ResNet-18, sequences of {@link GRU_BENCH}`.sequence` token ids for the GRU
 * (embedding → GRU in PyTorch's reset-after form with sigmoid gates, the last state → the head).
 */
export function benchModelSpec(model: BenchModel): BenchModelSpec {
  if (model === 'resnet') return { model: { graph: reducedResnet18Graph(20) }, sampleShape: [32, 32, 3] };
  if (model === 'gru')
    return {
      model: {
        graph: {
          nodes: [
            {
              name: 'tokens',
              type: 'embedding',
              inputDim: GRU_BENCH.vocabulary,
              outputDim: GRU_BENCH.embedding,
              inputs: ['input'],
            },
            {
              name: 'gru',
              type: 'gru',
              units: GRU_BENCH.units,
              recurrentActivation: 'sigmoid',
              resetAfter: true,
              inputs: ['tokens'],
            },
          ],
        },
      },
      sampleShape: [GRU_BENCH.sequence],
      vocabulary: GRU_BENCH.vocabulary,
    };
  return { model: { layers: BENCH_MODELS[model] }, sampleShape: [28, 28, 1] };
}

/**
 * A benchmark model built as every bench builds it: {@link benchModelSpec}'s model for its sample
 * shape, a head of 10 classes, weights seeded with 0. Called by the bare loops, the Fisher timing and
 * the model tests; the caller disposes it.
 */
export function buildBenchModel(model: BenchModel): Promise<EngramModel> {
  const spec = benchModelSpec(model);
  return buildModel(spec.model, { inputShape: [...spec.sampleShape], outputs: 10, rng: new Rng(0), baseDir: '.' });
}
