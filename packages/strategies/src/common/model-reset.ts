import * as tf from '@tensorflow/tfjs';
import type { EngramModel, Rng } from '@engram/core';

type Initializer = ReturnType<typeof tf.initializers.zeros>;
type InitializerFactory = (config: Record<string, unknown>) => Initializer;

/** Layer config key of the initializer of each weight, by the weight's short name. */
const INITIALIZER_KEYS: Readonly<Record<string, string>> = {
  kernel: 'kernelInitializer',
  bias: 'biasInitializer',
  depthwise_kernel: 'depthwiseInitializer',
  pointwise_kernel: 'pointwiseInitializer',
  recurrent_kernel: 'recurrentInitializer',
  embeddings: 'embeddingsInitializer',
  gamma: 'gammaInitializer',
  beta: 'betaInitializer',
  moving_mean: 'movingMeanInitializer',
  moving_variance: 'movingVarianceInitializer',
};

function initializerFor(config: unknown, rank: number, seed: number): Initializer {
  const factories = tf.initializers as unknown as Record<string, InitializerFactory>;
  if (typeof config === 'object' && config !== null && 'className' in config) {
    const { className, config: inner } = config as { className: string; config?: Record<string, unknown> };
    const factory = factories[className.charAt(0).toLowerCase() + className.slice(1)];
    if (factory) return factory({ ...(inner ?? {}), seed });
  }
  return rank >= 2 ? tf.initializers.glorotUniform({ seed }) : tf.initializers.zeros();
}

/**
 * Re-initialises every weight of `model.network` in place with its layer's configured initializer,
 * seeded from `rng` (so a reset is reproducible from the pipeline seed). Used by `joint` and `gdumb`,
 * which train from scratch at each experience. Wrappers (multi-head, hedge) keep their variables since
 * their network holds them all.
 */
export function reinitializeModel(model: EngramModel, rng: Rng): void {
  for (const layer of model.network.layers) {
    const config = layer.getConfig() as Record<string, unknown>;
    for (const w of layer.weights) {
      const short = w.originalName.split('/').pop() ?? '';
      const key = INITIALIZER_KEYS[short];
      const init = initializerFor(key ? config[key] : undefined, w.shape.length, rng.tfSeed());
      const value = tf.tidy(() => init.apply([...(w.shape as number[])], 'float32'));
      w.write(value);
      value.dispose();
    }
  }
}
