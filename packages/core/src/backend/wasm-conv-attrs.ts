import * as tf from '@tensorflow/tfjs';
import type { Attribute, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';

type Shape4 = [number, number, number, number];
type PadAttr = Parameters<typeof tf.backend_util.computeConv2DInfo>[4];
type Rounding = 'floor' | 'round' | 'ceil';

/** Window geometry of a 2-D convolution / pooling, as the gradient kernels need it. */
export interface ConvGeometry {
  inH: number;
  inW: number;
  outH: number;
  outW: number;
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  /** Dilated filter extent: (k - 1) * dilation + 1. */
  effH: number;
  effW: number;
  /** Implicit padding before the first row / column. */
  top: number;
  left: number;
  filterShape: Shape4;
  info: ReturnType<typeof tf.backend_util.computeConv2DInfo>;
}

/**
 * Returns the named kernel input or throws. Called by the fallback kernels, whose
 * inputs tfjs types as possibly undefined.
 */
export function requireInput(inputs: NamedTensorInfoMap, name: string, kernel: string): TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`${kernel}: missing input '${name}'`);
  return t;
}

function isNumberArray(a: Attribute | undefined): a is number[] {
  return Array.isArray(a) && a.every((v) => typeof v === 'number');
}

/**
 * Reads a 4-element shape attribute (filterShape, inputShape) or a TensorInfo shape.
 * Called by the conv and pool gradient kernels while decoding their attributes.
 */
export function shape4(a: Attribute | number[] | undefined, what: string): Shape4 {
  if (isNumberArray(a) && a.length === 4) return [a[0] ?? 0, a[1] ?? 0, a[2] ?? 0, a[3] ?? 0];
  throw new Error(`Engram wasm kernel: ${what} must be a rank-4 shape`);
}

/**
 * Reads a `number | [number, number]` attribute such as strides, dilations or a pool's
 * filterSize. Called by the conv and pool gradient kernels.
 */
export function pair(a: Attribute | undefined, fallback: number): [number, number] {
  if (typeof a === 'number') return [a, a];
  if (isNumberArray(a) && a.length === 2) return [a[0] ?? fallback, a[1] ?? fallback];
  if (isNumberArray(a) && a.length === 1) return [a[0] ?? fallback, a[0] ?? fallback];
  return [fallback, fallback];
}

/**
 * Reads the `pad` attribute ('same' | 'valid' | number | explicit 4x2 padding).
 * Called by the conv and pool gradient kernels.
 */
export function padAttr(a: Attribute | undefined): PadAttr {
  if (a === 'same') return 'same';
  if (a === 'valid') return 'valid';
  if (typeof a === 'number') return a;
  if (Array.isArray(a) && a.length === 4) {
    const pairs = a.map((p) =>
      isNumberArray(p) && p.length === 2 ? ([p[0] ?? 0, p[1] ?? 0] as [number, number]) : null,
    );
    const [p0, p1, p2, p3] = pairs;
    if (p0 && p1 && p2 && p3) return [p0, p1, p2, p3];
  }
  throw new Error(`Engram wasm kernel: unsupported pad attribute ${JSON.stringify(a)}`);
}

/** Reads `dimRoundingMode` (undefined when absent). Called by the conv and pool gradient kernels. */
export function roundingAttr(a: Attribute | undefined): Rounding | undefined {
  if (a === 'floor') return 'floor';
  if (a === 'round') return 'round';
  return a === 'ceil' ? 'ceil' : undefined;
}

/**
 * Computes the geometry of a channels-last conv (or depthwise conv) from the kernel's
 * attributes. Called by every conv / pool gradient kernel; rejects NCHW, which the
 * wasm backend does not run either.
 */
export function convGeometry(
  inShape: Attribute | number[] | undefined,
  filterShape: Attribute | number[] | undefined,
  attrs: NamedAttrMap,
  depthwise: boolean,
): ConvGeometry {
  const format = attrs['dataFormat'];
  if (format === 'NCHW' || format === 'channelsFirst') {
    throw new Error('Engram wasm conv gradients support NHWC (channelsLast) only');
  }
  const fs = shape4(filterShape, 'filterShape');
  const info = tf.backend_util.computeConv2DInfo(
    shape4(inShape, 'input shape'),
    fs,
    pair(attrs['strides'], 1),
    pair(attrs['dilations'], 1),
    padAttr(attrs['pad']),
    roundingAttr(attrs['dimRoundingMode']),
    depthwise,
    'channelsLast',
  );
  return {
    inH: info.inHeight,
    inW: info.inWidth,
    outH: info.outHeight,
    outW: info.outWidth,
    strideH: info.strideHeight,
    strideW: info.strideWidth,
    dilationH: info.dilationHeight,
    dilationW: info.dilationWidth,
    effH: info.effectiveFilterHeight,
    effW: info.effectiveFilterWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
    filterShape: fs,
    info,
  };
}
