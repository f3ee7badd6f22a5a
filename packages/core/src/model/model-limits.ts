import type { LayerSpec } from '../pipeline/layer.schema.js';

/** Most trainable parameters a pipeline's model may have (400 MB of float32 weights; Adam keeps two more copies). */
export const MAX_MODEL_PARAMETERS = 100_000_000;

/** Most values one input sample may have (`prod(inputShape)`: 64 MB of float32 per sample). */
export const MAX_INPUT_VALUES = 16 * 1024 * 1024;

/**
 * Parameters a layer will allocate when it is added after output shape `shape` (`[batch, …]`), computed
 * from the spec alone — before tfjs allocates anything — so an oversized model is refused instead of
 * exhausting memory. Layers without weights count 0.
 */
export function layerParameters(
  spec: LayerSpec | { type: 'dense'; units: number; useBias?: boolean },
  shape: ReadonlyArray<number | null>,
): number {
  const last = shape[shape.length - 1] ?? 0;
  switch (spec.type) {
    case 'dense':
      return (last ?? 0) * spec.units + (spec.useBias === false ? 0 : spec.units);
    case 'conv2d': {
      const [kh, kw] = pair(spec.kernelSize);
      return kh * kw * (last ?? 0) * spec.filters + spec.filters;
    }
    case 'depthwiseConv2d': {
      const [kh, kw] = pair(spec.kernelSize);
      const out = (last ?? 0) * (spec.depthMultiplier ?? 1);
      return kh * kw * out + (spec.useBias === false ? 0 : out);
    }
    case 'batchNormalization':
      return 4 * (last ?? 0);
    case 'layerNormalization':
      return 2 * (last ?? 0);
    case 'embedding':
      return spec.inputDim * spec.outputDim;
    case 'lstm':
    case 'gru': {
      const gates = spec.type === 'lstm' ? 4 : 3;
      const u = spec.units;
      const biases = spec.useBias === false ? 0 : spec.type === 'gru' && spec.resetAfter === true ? 2 : 1;
      return gates * ((last ?? 0) * u + u * u + biases * u);
    }
    default:
      return 0;
  }
}

function pair(k: number | readonly number[]): [number, number] {
  return typeof k === 'number' ? [k, k] : [k[0] ?? 1, k[1] ?? 1];
}

/** The number of values of one sample of shape `shape` (no batch axis). */
export function inputValues(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
