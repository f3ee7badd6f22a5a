import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from '../addon/native-addon.js';
import { asWasmBackend, heapOf, offsetOf } from '../wasm/wasm-backend.js';
import { ACTIVATIONS, activationName } from './matmul-kernels.js';

type Conv2DInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;
type Attrs = tf.NamedAttrMap | undefined;

/**
 * The addon's conv geometry: [batch, inH, inW, inC, outH, outW, outC, fH, fW, strideH, strideW,
 * dilationH, dilationW, padTop, padLeft].
 */
export function convGeometry(c: Conv2DInfo): Int32Array {
  return Int32Array.from([
    c.batchSize,
    c.inHeight,
    c.inWidth,
    c.inChannels,
    c.outHeight,
    c.outWidth,
    c.outChannels,
    c.filterHeight,
    c.filterWidth,
    c.strideHeight,
    c.strideWidth,
    c.dilationHeight,
    c.dilationWidth,
    c.padInfo.top,
    c.padInfo.left,
  ]);
}

/** computeConv2DInfo for NHWC float32 convs, or undefined for cases left to the stock kernel. */
function convInfo(
  xShape: number[],
  filterShape: number[],
  attrs: Attrs,
  withDilations: boolean,
): Conv2DInfo | undefined {
  const format = attrs?.['dataFormat'] ?? 'NHWC';
  if (format !== 'NHWC' || xShape.length !== 4 || filterShape.length !== 4) return undefined;
  const strides = attrs?.['strides'] as number | [number, number];
  const dilations = withDilations ? ((attrs?.['dilations'] as number | [number, number] | undefined) ?? 1) : 1;
  const pad = attrs?.['pad'] as 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  const rounding = attrs?.['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined;
  try {
    const info = tf.backend_util.computeConv2DInfo(
      xShape as [number, number, number, number],
      filterShape as [number, number, number, number],
      strides,
      dilations,
      pad,
      rounding,
      false,
      'channelsLast',
    );
    return info.outHeight > 0 && info.outWidth > 0 && info.inChannels > 0 ? info : undefined;
  } catch {
    return undefined;
  }
}

function floats(...ts: Array<tf.TensorInfo | undefined>): boolean {
  return ts.every((t) => t === undefined || t.dtype === 'float32');
}

/** Conv2D and FusedConv2D (bias + linear/relu/relu6/leakyrelu/sigmoid/elu) natively; prelu → stock. */
export function conv2dKernel(addon: NativeAddon) {
  return (stock: tf.KernelFunc): tf.KernelFunc =>
    (args) => {
      const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
      const activation = ACTIVATIONS[activationName(args.attrs?.['activation'])];
      if (!x || !filter || preluActivationWeights != null || activation === undefined || !floats(x, filter, bias))
        return stock(args);
      const info = convInfo(x.shape, filter.shape, args.attrs, true);
      const biasLen = bias ? tf.util.sizeFromShape(bias.shape) : 0;
      if (
        !info ||
        (bias && biasLen !== 1 && (biasLen !== info.outChannels || bias.shape[bias.shape.length - 1] !== biasLen))
      ) {
        return stock(args);
      }
      const backend = asWasmBackend(args.backend);
      const xOff = offsetOf(backend, x),
        fOff = offsetOf(backend, filter),
        bOff = bias ? offsetOf(backend, bias) : -1;
      if (xOff < 0 || fOff < 0 || (bias && bOff < 0)) return stock(args);
      const out = backend.makeOutput(info.outShape.slice(), 'float32');
      const alpha = args.attrs?.['leakyreluAlpha'];
      addon.conv2d(
        heapOf(backend),
        convGeometry(info),
        xOff,
        fOff,
        offsetOf(backend, out),
        bOff,
        biasLen,
        activation,
        typeof alpha === 'number' ? alpha : 0.2,
      );
      return out;
    };
}

/** Conv2DBackpropInput (the input gradient): sgemm dy·filterᵀ, then col2im. */
export function conv2dBackpropInputKernel(addon: NativeAddon) {
  return (stock: tf.KernelFunc): tf.KernelFunc =>
    (args) => {
      const { dy, filter } = args.inputs as Record<string, tf.TensorInfo | undefined>;
      const inputShape = args.attrs?.['inputShape'] as number[] | undefined;
      if (!dy || !filter || !inputShape || !floats(dy, filter)) return stock(args);
      const info = convInfo(inputShape, filter.shape, args.attrs, false);
      if (!info || info.outHeight !== dy.shape[1] || info.outWidth !== dy.shape[2]) return stock(args);
      const backend = asWasmBackend(args.backend);
      const dyOff = offsetOf(backend, dy),
        fOff = offsetOf(backend, filter);
      if (dyOff < 0 || fOff < 0) return stock(args);
      const out = backend.makeOutput(inputShape.slice(), 'float32');
      addon.conv2dBackpropInput(heapOf(backend), convGeometry(info), dyOff, fOff, offsetOf(backend, out));
      return out;
    };
}

/** Conv2DBackpropFilter (the filter gradient): im2col, then sgemm colsᵀ·dy. */
export function conv2dBackpropFilterKernel(addon: NativeAddon) {
  return (stock: tf.KernelFunc): tf.KernelFunc =>
    (args) => {
      const { x, dy } = args.inputs as Record<string, tf.TensorInfo | undefined>;
      const filterShape = args.attrs?.['filterShape'] as number[] | undefined;
      if (!x || !dy || !filterShape || !floats(x, dy)) return stock(args);
      const info = convInfo(x.shape, filterShape, args.attrs, false);
      if (!info || info.outHeight !== dy.shape[1] || info.outWidth !== dy.shape[2]) return stock(args);
      const backend = asWasmBackend(args.backend);
      const xOff = offsetOf(backend, x),
        dyOff = offsetOf(backend, dy);
      if (xOff < 0 || dyOff < 0) return stock(args);
      const out = backend.makeOutput(filterShape.slice(), 'float32');
      addon.conv2dBackpropFilter(heapOf(backend), convGeometry(info), xOff, dyOff, offsetOf(backend, out));
      return out;
    };
}
