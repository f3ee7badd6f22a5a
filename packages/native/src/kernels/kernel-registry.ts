import * as tf from '@tensorflow/tfjs';

const replaced = new Map<string, tf.KernelConfig>();

/** Builds a replacement kernel from the stock one, which it receives to fall back to. */
export type KernelFactory = (stock: tf.KernelFunc) => tf.KernelFunc;

/**
 * Replaces the wasm backend's kernel `name` (unregister, then register) with `factory(stock)`,
 * keeping the stock config (and its setupFunc) so `restoreKernels()` can put it back.
 */
export function replaceKernel(name: string, factory: KernelFactory): boolean {
  const stock = replaced.get(name) ?? tf.getKernel(name, 'wasm');
  if (stock == null) return false;
  tf.unregisterKernel(name, 'wasm');
  replaced.set(name, stock);
  const config: tf.KernelConfig = { kernelName: name, backendName: 'wasm', kernelFunc: factory(stock.kernelFunc) };
  if (stock.setupFunc) config.setupFunc = stock.setupFunc;
  if (stock.disposeFunc) config.disposeFunc = stock.disposeFunc;
  tf.registerKernel(config);
  return true;
}

/** Puts every replaced wasm kernel back to its stock implementation. */
export function restoreKernels(): void {
  for (const [name, stock] of replaced) {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(stock);
  }
  replaced.clear();
}

/** Names of the kernels currently replaced. */
export function replacedKernels(): string[] {
  return [...replaced.keys()];
}
