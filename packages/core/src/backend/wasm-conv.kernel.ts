import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { readValues, runInWasmScope, type WasmKernelScope } from './wasm-kernel-scope.js';
import { convGeometry, requireInput, type ConvGeometry } from './wasm-conv-attrs.js';

/*
 * Conv2D gradients for wasm, written with kernels wasm has (Conv2D, Transpose, PadV2,
 * Slice, Reverse, DepthwiseConv2dNative, Multiply, Sum), all on XNNPACK where it matters.
 *
 * filter grad:  dW[kh,kw,ci,co] = sum_{n,i,j} xPad[n, i*s+kh, j*s+kw, ci] * dy[n,i,j,co]
 *   = a stride-1 conv of x with batch<->channel swapped ([Cin,H,W,N]) by dy as the
 *   filter ([Ho,Wo,N,Cout]) dilated by the forward stride, giving [Cin,Kh,Kw,Cout].
 * input grad:   dx = stride-1 conv of dy (zero-inserted by the stride, padded by
 *   Keff-1-top) with the spatially flipped filter, in/out channels swapped.
 */

/** Pads x (NHWC, spatial axes 1,2) so that a valid, dilated window sweep is exact. */
function padForFilterGrad(scope: WasmKernelScope, x: TensorInfo, g: ConvGeometry): TensorInfo {
  const needH = g.effH + (g.outH - 1) * g.strideH;
  const needW = g.effW + (g.outW - 1) * g.strideW;
  return scope.padOrCrop(x, [
    [g.top, needH - g.top - g.inH],
    [g.left, needW - g.left - g.inW],
  ]);
}

/** Zero-inserts and pads dy so a stride-1 valid conv with the flipped filter yields dx. */
function padForInputGrad(scope: WasmKernelScope, dy: TensorInfo, g: ConvGeometry): TensorInfo {
  const dilated = scope.dilateSpatial(dy, [g.strideH, g.strideW]);
  const [, h = 1, w = 1] = dilated.shape;
  const top = g.effH - 1 - g.top;
  const left = g.effW - 1 - g.left;
  return scope.padOrCrop(dilated, [
    [top, g.inH + g.effH - 1 - top - h],
    [left, g.inW + g.effW - 1 - left - w],
  ]);
}

function conv2dBackpropFilter(scope: WasmKernelScope, x: TensorInfo, dy: TensorInfo, attrs: NamedAttrMap): TensorInfo {
  const g = convGeometry(x.shape, attrs['filterShape'], attrs, false);
  const xT = scope.transpose(x, [3, 1, 2, 0]);
  const xP = padForFilterGrad(scope, xT, g);
  const dyT = scope.transpose(dy, [1, 2, 0, 3]);
  const w = scope.run(
    'Conv2D',
    { x: xP, filter: dyT },
    {
      strides: [1, 1],
      pad: 'valid',
      dataFormat: 'NHWC',
      dilations: [g.strideH, g.strideW],
      dimRoundingMode: 'floor',
    },
  );
  return scope.transpose(w, [1, 2, 0, 3]);
}

function conv2dBackpropInput(
  scope: WasmKernelScope,
  dy: TensorInfo,
  filter: TensorInfo,
  attrs: NamedAttrMap,
): TensorInfo {
  const g = convGeometry(attrs['inputShape'], filter.shape, attrs, false);
  const dyP = padForInputGrad(scope, dy, g);
  const flipped = scope.run('Reverse', { x: filter }, { dims: [0, 1] });
  const swapped = scope.transpose(flipped, [0, 1, 3, 2]);
  return scope.run(
    'Conv2D',
    { x: dyP, filter: swapped },
    {
      strides: [1, 1],
      pad: 'valid',
      dataFormat: 'NHWC',
      dilations: [g.dilationH, g.dilationW],
      dimRoundingMode: 'floor',
    },
  );
}

function depthwiseBackpropFilter(
  scope: WasmKernelScope,
  x: TensorInfo,
  dy: TensorInfo,
  attrs: NamedAttrMap,
): TensorInfo {
  const g = convGeometry(x.shape, attrs['filterShape'], attrs, true);
  const [kh, kw, c, m] = g.filterShape;
  const n = x.shape[0] ?? 1;
  const xP = padForFilterGrad(scope, x, g);
  const dy5 = scope.reshape(dy, [n, g.outH, g.outW, c, m]);
  const spanH = (g.outH - 1) * g.strideH + 1;
  const spanW = (g.outW - 1) * g.strideW + 1;
  const taps: TensorInfo[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const h0 = i * g.dilationH,
        w0 = j * g.dilationW;
      const patch = scope.run(
        'StridedSlice',
        { x: xP },
        {
          begin: [0, h0, w0, 0],
          end: [n, h0 + spanH, w0 + spanW, c],
          strides: [1, g.strideH, g.strideW, 1],
          beginMask: 0,
          endMask: 0,
          ellipsisMask: 0,
          newAxisMask: 0,
          shrinkAxisMask: 0,
        },
      );
      const patch5 = scope.reshape(patch, [n, g.outH, g.outW, c, 1]);
      const prod = scope.run('Multiply', { a: patch5, b: dy5 });
      taps.push(scope.sum(prod, [0, 1, 2]));
    }
  }
  const out = scope.track(scope.backend.makeOutput([kh, kw, c, m], 'float32'));
  const heap = scope.backend.typedArrayFromHeap(out);
  taps.forEach((t, k) => heap.set(readValues(scope.backend, t), k * c * m));
  return out;
}

function depthwiseBackpropInput(
  scope: WasmKernelScope,
  dy: TensorInfo,
  filter: TensorInfo,
  attrs: NamedAttrMap,
): TensorInfo {
  const g = convGeometry(attrs['inputShape'], filter.shape, attrs, true);
  const [kh, kw, c, m] = g.filterShape;
  const dyP = padForInputGrad(scope, dy, g);
  const flipped = scope.run('Reverse', { x: filter }, { dims: [0, 1] });
  const f = scope.reshape(flipped, [kh, kw, c * m, 1]);
  const y = scope.run(
    'DepthwiseConv2dNative',
    { x: dyP, filter: f },
    {
      strides: [1, 1],
      pad: 'valid',
      dilations: [g.dilationH, g.dilationW],
      dimRoundingMode: 'floor',
    },
  );
  if (m === 1) return y;
  const [n = 1, h = 1, w = 1] = y.shape;
  return scope.sum(scope.reshape(y, [n, h, w, c, m]), [4]);
}

type TwoInputBody = (scope: WasmKernelScope, a: TensorInfo, b: TensorInfo, attrs: NamedAttrMap) => TensorInfo;

function config(kernelName: string, first: string, second: string, body: TwoInputBody): KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) =>
      runInWasmScope(backend, (scope) =>
        body(scope, requireInput(inputs, first, kernelName), requireInput(inputs, second, kernelName), attrs ?? {}),
      ),
  };
}

/**
 * Kernel configs for the wasm convolution gradients: `Conv2DBackpropFilter`,
 * `DepthwiseConv2dNativeBackpropFilter` and `DepthwiseConv2dNativeBackpropInput`
 * (missing from tfjs-backend-wasm 4.22), plus a `Conv2DBackpropInput` that runs on
 * XNNPACK instead of wasm's naive loop. Registered by `registerWasmGradients()`.
 */
export function wasmConvKernels(): KernelConfig[] {
  return [
    config(tf.Conv2DBackpropFilter, 'x', 'dy', conv2dBackpropFilter),
    config(tf.Conv2DBackpropInput, 'dy', 'filter', conv2dBackpropInput),
    config(tf.DepthwiseConv2dNativeBackpropFilter, 'x', 'dy', depthwiseBackpropFilter),
    config(tf.DepthwiseConv2dNativeBackpropInput, 'dy', 'filter', depthwiseBackpropInput),
  ];
}
