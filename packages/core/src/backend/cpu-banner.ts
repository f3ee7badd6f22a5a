import * as tf from '@tensorflow/tfjs';

/**
 * Keeps tfjs' cpu backend from printing its "Hi, looks like you are running TensorFlow.js in Node.js"
 * banner on first use (a suggestion to install tfjs-node, printed by `engram export`, `eval` and any
 * command that runs on the default backend). Only that banner: other tfjs warnings (a kernel registered
 * twice by a second copy of tfjs, for example) still reach stderr, which tfjs' `PROD` mode would hide.
 *
 * Call once at process start-up. tfjs creates a new cpu backend object whenever it (re)initialises its
 * backends, so the flag the banner depends on (`firstUse`, assigned in MathBackendCPU's constructor and
 * read on the first tensor write, tfjs 4.22) is made an accessor on the class that always reads false.
 */
export function silenceCpuBanner(): void {
  const cpu = tf.findBackend('cpu');
  if (!cpu || !('firstUse' in cpu)) return;
  Reflect.set(cpu, 'firstUse', false);
  const proto = Object.getPrototypeOf(cpu) as object;
  if (Object.getOwnPropertyDescriptor(proto, 'firstUse')) return;
  Object.defineProperty(proto, 'firstUse', { get: () => false, set: () => undefined, configurable: true });
}
