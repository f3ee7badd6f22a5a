/**
 * Where a training step of the bench's reduced ResNet-18 spends its time, per tfjs kernel, and what the
 * native kernels added for it (issue #32) change, measured in one process.
 *
 * Usage: node packages/cli/dist/bench/resnet-profile.main.js [--batch 32] [--steps 5] [--blocks 3]
 *        [--set new|old|stock] [--compare [--only Kernel,…]] [--model resnet|gru] [--bn fused|stock]
 *        [--compare-bn]
 *
 * The backend is chosen as the CLI chooses it (`selectBackend('wasm')`: core's wasm rewrites, then
 * `@engram/native`'s kernels); the step is the bench's bare loop (`BareLoop`: the engine's model, Adam
 * with the native update, cross-entropy, a loss read back per step). `--set` picks the kernels profiled:
 * `new` every native kernel (default), `old` the native kernels from before issue #32's (the new ones
 * put back to their stock wasm versions), `stock` no native kernel at all. `--compare` times `old` and
 * `new` alternately in `--blocks` blocks of `--steps` steps and prints the ratio; with `--only`, `old` is
 * `new` with just the named kernels put back to stock (an added kernel removed: its gradient override
 * then runs tfjs's own gradient), to measure those alone. Prints tables only; it
 * writes nothing. Timings under load are noisy: read the shares, and the ratio of one run as a hint.
 * `--model gru` profiles the bench's GRU classifier instead (its bench batch is 128). `--bn stock` trains
 * the batch-norm layers through tfjs-layers' own composition (moments + FusedBatchNorm + autodiff)
 * instead of core's fused op (`--bn fused`, default); `--compare-bn` times the two alternately in
 * `--blocks` blocks of `--steps` steps with the `--set` kernels and prints their ratio.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '@engram/core';
import { BareLoop } from './bare-loop.bench.js';

/** The native kernels that existed before issue #32 (kept as they are in the `old` set). */
const OLD_NATIVE = new Set([
  'BatchMatMul',
  '_FusedMatMul',
  'Sum',
  'Identity',
  'Conv2D',
  'FusedConv2D',
  'Conv2DBackpropInput',
  'Conv2DBackpropFilter',
  'MaxPool',
  'MaxPoolGrad',
  'Add',
  'Relu',
  'EngramReluGrad',
]);

const NATIVE_PACKAGE = '@engram/native';

type KernelSet = 'new' | 'old' | 'stock';

interface NativeModule {
  load(): { loaded: boolean; description: string };
  unload(): void;
  nativeKernels(): string[];
}

function arg(flag: string, fallback: string): string {
  const i = process.argv.indexOf(flag);
  return (i >= 0 ? process.argv[i + 1] : undefined) ?? fallback;
}

/** Switches between the kernel sets by re-registering the configs captured once with each set loaded. */
class KernelSwitch {
  private constructor(
    private readonly native: NativeModule,
    private readonly added: ReadonlyArray<{ name: string; native: tf.KernelConfig; stock?: tf.KernelConfig }>,
  ) {}

  static async create(): Promise<KernelSwitch> {
    const native = (await import(NATIVE_PACKAGE)) as NativeModule;
    const names = native.nativeKernels().filter((name) => !OLD_NATIVE.has(name));
    const nativeConfigs = names.map((name) => tf.getKernel(name, 'wasm'));
    native.unload();
    const stockConfigs = names.map((name) => tf.getKernel(name, 'wasm'));
    native.load();
    const added = names.flatMap((name, i) => {
      const n = nativeConfigs[i];
      return n ? [{ name, native: n, ...(stockConfigs[i] ? { stock: stockConfigs[i] } : {}) }] : [];
    });
    return new KernelSwitch(native, added);
  }

  /** The kernels new since issue #32. */
  get newKernels(): string[] {
    return this.added.map((k) => k.name);
  }

  /** Activates `set`; with `only`, the `old` set is `new` with just those kernels put back to stock. */
  use(set: KernelSet, only?: ReadonlySet<string>): void {
    if (set === 'stock') {
      this.native.unload();
      return;
    }
    if (this.native.nativeKernels().length === 0) this.native.load();
    for (const k of this.added) {
      if (tf.getKernel(k.name, 'wasm')) tf.unregisterKernel(k.name, 'wasm');
      const config = set === 'new' || (only !== undefined && !only.has(k.name)) ? k.native : k.stock;
      if (config) tf.registerKernel(config);
    }
  }
}

async function profile(loop: BareLoop, steps: number, label: string): Promise<void> {
  const perKernel = new Map<string, { ms: number; calls: number }>();
  let wall = 0;
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    const info = await tf.profile(() => loop.step());
    wall += performance.now() - t0;
    // `…__op` entries are op scopes (e.g. fusedConv2d__op) whose time is already their kernels'.
    for (const k of info.kernels.filter((kernel) => !kernel.name.endsWith('__op'))) {
      const entry = perKernel.get(k.name) ?? { ms: 0, calls: 0 };
      entry.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      entry.calls += 1;
      perKernel.set(k.name, entry);
    }
  }
  const total = [...perKernel.values()].reduce((sum, e) => sum + e.ms, 0);
  console.log(
    `\n${label}: ${(wall / steps).toFixed(1)} ms/step profiled, ${(total / steps).toFixed(1)} ms/step in kernels`,
  );
  console.log(`| kernel | calls/step | ms/step | share |\n|---|---:|---:|---:|`);
  for (const [name, e] of [...perKernel].sort((p, q) => q[1].ms - p[1].ms).slice(0, 30)) {
    const share = total > 0 ? (100 * e.ms) / total : 0;
    console.log(`| ${name} | ${(e.calls / steps).toFixed(0)} | ${(e.ms / steps).toFixed(2)} | ${share.toFixed(1)} % |`);
  }
}

function timeSteps(loop: BareLoop, steps: number): number {
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) loop.step();
  return (performance.now() - t0) / steps;
}

async function main(): Promise<void> {
  const batch = Number(arg('--batch', '32'));
  const steps = Number(arg('--steps', '5'));
  const blocks = Number(arg('--blocks', '3'));
  const model = arg('--model', 'resnet') === 'gru' ? 'gru' : 'resnet';
  const report = await selectBackend('wasm');
  console.log(
    `backend: ${report.description}; ${model === 'gru' ? 'GRU' : 'reduced ResNet-18 (nf 20)'}, batch ${batch}`,
  );
  const kernels = await KernelSwitch.create();
  console.log(`kernels new since issue #32: ${kernels.newKernels.join(', ') || '(none)'}`);
  const loop = await BareLoop.create(model, batch);
  try {
    const set = arg('--set', 'new') as KernelSet;
    if (process.argv.includes('--compare-bn')) {
      kernels.use(set);
      const ms: Record<'stock' | 'fused', number[]> = { stock: [], fused: [] };
      for (let b = 0; b < blocks; b++) {
        for (const bn of b % 2 === 0 ? (['stock', 'fused'] as const) : (['fused', 'stock'] as const)) {
          loop.useFusedBatchNorm(bn === 'fused');
          loop.step(); // one step to settle after the switch
          ms[bn].push(timeSteps(loop, steps));
        }
      }
      const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
      console.log(`\n| block | stock BN ms/step | fused BN ms/step |\n|---|---:|---:|`);
      ms.stock.forEach((o, b) => console.log(`| ${b + 1} | ${o.toFixed(1)} | ${(ms.fused[b] ?? 0).toFixed(1)} |`));
      console.log(
        `\nstep time fused ÷ stock BN: ${(mean(ms.fused) / mean(ms.stock)).toFixed(3)} (means of ${blocks} blocks)`,
      );
      return;
    }
    const bnLayers = loop.useFusedBatchNorm(arg('--bn', 'fused') !== 'stock');
    console.log(`batch norm in training: ${arg('--bn', 'fused')} (${bnLayers} layers)`);
    if (process.argv.includes('--compare')) {
      const onlyArg = arg('--only', '');
      const only = onlyArg ? new Set(onlyArg.split(',')) : undefined;
      if (only) console.log(`old = new without: ${[...only].join(', ')}`);
      const ms: Record<'old' | 'new', number[]> = { old: [], new: [] };
      for (let b = 0; b < blocks; b++) {
        for (const set of b % 2 === 0 ? (['old', 'new'] as const) : (['new', 'old'] as const)) {
          kernels.use(set, only);
          loop.step(); // one step to settle after the switch
          ms[set].push(timeSteps(loop, steps));
        }
      }
      const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
      console.log(`\n| block | old ms/step | new ms/step |\n|---|---:|---:|`);
      ms.old.forEach((o, b) => console.log(`| ${b + 1} | ${o.toFixed(1)} | ${(ms.new[b] ?? 0).toFixed(1)} |`));
      console.log(`\nstep time new ÷ old: ${(mean(ms.new) / mean(ms.old)).toFixed(3)} (means of ${blocks} blocks)`);
      console.log(`speed-up old ÷ new: ${(mean(ms.old) / mean(ms.new)).toFixed(2)}×`);
      return;
    }
    kernels.use(set);
    for (let i = 0; i < 2; i++) loop.step();
    await profile(loop, steps, `kernel set '${set}'`);
  } finally {
    loop.dispose();
  }
}

await main();
