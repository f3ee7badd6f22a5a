import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from '../addon/native-addon.js';
import { asWasmBackend, heapOf, offsetOf } from '../wasm/wasm-backend.js';

/** Core's `GRU_SEQUENCE_KERNEL` (`@engram/core`'s gru-sequence.ts defines the contract; the names must match). */
export const GRU_SEQUENCE_KERNEL = 'EngramGruSequence';

/** Core's `GRU_SEQUENCE_GRAD_KERNEL`. */
export const GRU_SEQUENCE_GRAD_KERNEL = 'EngramGruSequenceGrad';

/** The addon's gate codes: 0 sigmoid, 1 hard sigmoid. */
function gateCode(attrs: tf.NamedAttrMap | undefined): number {
  const gate = attrs?.['gate'];
  if (gate === 'sigmoid') return 0;
  if (gate === 'hardSigmoid') return 1;
  throw new Error(`${GRU_SEQUENCE_KERNEL}: unsupported gate ${JSON.stringify(gate)}`);
}

function float32(name: string, info: tf.TensorInfo | undefined, rank: number): tf.TensorInfo {
  if (!info || info.dtype !== 'float32' || info.shape.length !== rank)
    throw new Error(`${GRU_SEQUENCE_KERNEL}: input ${name} must be a float32 tensor of rank ${rank}`);
  return info;
}

/** Byte offsets of `infos` in the wasm heap (throws for a tensor that is not on it). */
function offsets(backend: ReturnType<typeof asWasmBackend>, infos: tf.TensorInfo[]): number[] {
  return infos.map((info) => {
    const off = offsetOf(backend, info);
    if (off < 0) throw new Error(`${GRU_SEQUENCE_KERNEL}: a tensor is not on the wasm heap`);
    return off;
  });
}

/**
 * The {@link GRU_SEQUENCE_KERNEL} kernel: a whole reset-after GRU sequence's forward pass in one
 * native call (per step one sgemm `h·R` and one pass of gate math), writing the states and the gate
 * cache core's gradient reads. Called by tfjs when core's `gruSequence` runs on wasm.
 */
export function gruSequenceKernel(addon: NativeAddon) {
  return (): tf.KernelFunc => (args) => {
    const backend = asWasmBackend(args.backend);
    const inputs = args.inputs as Record<string, tf.TensorInfo | undefined>;
    const xw = float32('xw', inputs['xw'], 3);
    const recurrent = float32('recurrent', inputs['recurrent'], 2);
    const bias = float32('recurrentBias', inputs['recurrentBias'], 1);
    const [batch, steps, width] = xw.shape as [number, number, number];
    const units = width / 3;
    if (recurrent.shape[0] !== units || recurrent.shape[1] !== width || bias.shape[0] !== width)
      throw new Error(`${GRU_SEQUENCE_KERNEL}: recurrent [${recurrent.shape.join(', ')}] does not fit xw`);
    const outs = [
      backend.makeOutput([batch, steps, units], 'float32'),
      backend.makeOutput([batch, steps, 2 * units], 'float32'),
      backend.makeOutput([batch, steps, units], 'float32'),
      backend.makeOutput([batch, steps, units], 'float32'),
    ];
    const [x, r, b, s, zr, n, hn] = offsets(backend, [xw, recurrent, bias, ...outs]) as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    addon.gruForward(heapOf(backend), x, r, b, s, zr, n, hn, batch, steps, units, gateCode(args.attrs));
    return outs;
  };
}

/**
 * The {@link GRU_SEQUENCE_GRAD_KERNEL} kernel: backpropagation through time for the sequence in one
 * native call (per step one pass of gate derivatives and one sgemm `dhr·Rᵀ`; the recurrent kernel's
 * gradient one sgemm over all steps). Called from core's `gruSequence` gradient on wasm.
 */
export function gruSequenceGradKernel(addon: NativeAddon) {
  return (): tf.KernelFunc => (args) => {
    const backend = asWasmBackend(args.backend);
    const inputs = args.inputs as Record<string, tf.TensorInfo | undefined>;
    const states = float32('states', inputs['states'], 3);
    const [batch, steps, units] = states.shape as [number, number, number];
    const dyInfo = inputs['dy'];
    const sequences = dyInfo?.shape.length === 3;
    const dy = float32('dy', dyInfo, sequences ? 3 : 2);
    const expected = sequences ? [batch, steps, units] : [batch, units];
    if (!tf.util.arraysEqual(dy.shape, expected))
      throw new Error(`${GRU_SEQUENCE_GRAD_KERNEL}: dy [${dy.shape.join(', ')}] does not fit the states`);
    const cache = [
      float32('recurrent', inputs['recurrent'], 2),
      states,
      float32('zr', inputs['zr'], 3),
      float32('n', inputs['n'], 3),
      float32('hn', inputs['hn'], 3),
    ];
    const outs = [
      backend.makeOutput([batch, steps, 3 * units], 'float32'),
      backend.makeOutput([units, 3 * units], 'float32'),
      backend.makeOutput([3 * units], 'float32'),
    ];
    const [d, r, s, zr, n, hn, dxw, dr, drb] = offsets(backend, [dy, ...cache, ...outs]) as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    addon.gruBackward(
      heapOf(backend),
      d,
      sequences,
      r,
      s,
      zr,
      n,
      hn,
      dxw,
      dr,
      drb,
      batch,
      steps,
      units,
      gateCode(args.attrs),
    );
    return outs;
  };
}
