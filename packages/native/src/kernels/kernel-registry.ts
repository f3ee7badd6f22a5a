import * as tf from '@tensorflow/tfjs';

/**
 * Mark Engram's core puts on the wasm kernels it installs (a registered symbol, shared by every copy of
 * core). A native kernel that wraps a marked kernel carries the mark, so core does not wrap it again.
 */
const ENGRAM_KERNEL = Symbol.for('engram.wasm-kernel');
type Marked = { [ENGRAM_KERNEL]?: true };

/** The config each replaced kernel had before (null when the wasm backend had none). */
const replaced = new Map<string, tf.KernelConfig | null>();

/** Builds a replacement kernel from the stock one, which it receives to fall back to. */
export type KernelFactory = (stock: tf.KernelFunc) => tf.KernelFunc;

function missing(name: string): tf.KernelFunc {
  return () => {
    throw new Error(`Kernel '${name}' not registered for backend 'wasm' (case not handled natively)`);
  };
}

/**
 * Replaces the wasm backend's kernel `name` (unregister, then register) with `factory(stock)`,
 * keeping the previous config (and its setupFunc) so `restoreKernels()` can put it back. A kernel
 * the wasm backend lacks (e.g. Conv2DBackpropFilter) is added; its unhandled cases throw as before.
 */
export function replaceKernel(name: string, factory: KernelFactory): void {
  const stock = replaced.has(name) ? (replaced.get(name) ?? null) : (tf.getKernel(name, 'wasm') ?? null);
  if (tf.getKernel(name, 'wasm') != null) tf.unregisterKernel(name, 'wasm');
  replaced.set(name, stock);
  const config: tf.KernelConfig = {
    kernelName: name,
    backendName: 'wasm',
    kernelFunc: factory(stock?.kernelFunc ?? missing(name)),
  };
  if ((stock?.kernelFunc as Marked | undefined)?.[ENGRAM_KERNEL] === true)
    (config.kernelFunc as Marked)[ENGRAM_KERNEL] = true;
  if (stock?.setupFunc) config.setupFunc = stock.setupFunc;
  if (stock?.disposeFunc) config.disposeFunc = stock.disposeFunc;
  tf.registerKernel(config);
}

/** Puts every replaced wasm kernel back to what it was (removing kernels that were added). */
export function restoreKernels(): void {
  for (const [name, stock] of replaced) {
    tf.unregisterKernel(name, 'wasm');
    if (stock) tf.registerKernel(stock);
  }
  replaced.clear();
}

/** Names of the kernels currently replaced. */
export function replacedKernels(): string[] {
  return [...replaced.keys()];
}

/**
 * Runs `fn` with the stock wasm kernels `names` in place of the native ones (a kernel the native set
 * added is removed meanwhile), then puts the native ones back. For tests and profiles comparing the
 * two in one process; `fn` must be synchronous. Names not replaced are left alone.
 */
export function withStockKernels<T>(names: readonly string[], fn: () => T): T {
  const swapped: tf.KernelConfig[] = [];
  for (const name of names) {
    const current = tf.getKernel(name, 'wasm');
    if (!replaced.has(name) || !current) continue;
    tf.unregisterKernel(name, 'wasm');
    const stock = replaced.get(name);
    if (stock) tf.registerKernel(stock);
    swapped.push(current);
  }
  try {
    return fn();
  } finally {
    for (const config of swapped) {
      if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
      tf.registerKernel(config);
    }
  }
}
