import { createRequire } from 'node:module';

/** What the addon found when it opened the BLAS library. */
export interface BlasStatus {
  /** True when an OpenBLAS with `cblas_sgemm` was opened. */
  readonly ok: boolean;
  /** Why no BLAS was opened (empty when `ok`). */
  readonly reason: string;
  /** The library name or path that was opened, e.g. `libopenblas.so.0`. */
  readonly library: string;
  /** `openblas_get_config()`, e.g. `OpenBLAS 0.3.21 DYNAMIC_ARCH USE_OPENMP …`. */
  readonly config: string;
  /** OpenBLAS's threading model: `sequential`, `pthreads`, `openmp` or `unknown`. */
  readonly parallel: string;
  /** `openblas_get_num_threads()`. */
  readonly threads: number;
}

/**
 * The N-API addon built from `csrc/`. Every kernel works in place on the wasm heap (`heap` is the
 * wasm memory's current ArrayBuffer); offsets are in bytes, sizes and strides in floats.
 */
export interface NativeAddon {
  init(): BlasStatus;
  matmul(
    heap: ArrayBuffer,
    aOff: number,
    bOff: number,
    cOff: number,
    batch: number,
    aStride: number,
    bStride: number,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
    biasOff: number,
    biasLen: number,
    activation: number,
    alpha: number,
  ): void;
  // The optimizer updates take optional quadratic penalty `terms` ([anchorOff, fisherOff, gradScale]
  // triples): their gradient gradScale·F·(θ−θ*) is added to g in the same pass, and the call returns
  // Σ (gradScale/2)·F·(θ−θ*)² over the terms, computed from θ before the update (0 without terms).
  adam(
    heap: ArrayBuffer,
    pOff: number,
    mOff: number,
    vOff: number,
    gOff: number,
    n: number,
    beta1: number,
    oneMinusBeta1: number,
    beta2: number,
    oneMinusBeta2: number,
    oneMinusAccBeta1: number,
    oneMinusAccBeta2: number,
    epsilon: number,
    negLearningRate: number,
    terms?: Float64Array,
  ): number;
  sgd(heap: ArrayBuffer, pOff: number, gOff: number, n: number, negLearningRate: number, terms?: Float64Array): number;
  momentum(
    heap: ArrayBuffer,
    pOff: number,
    accOff: number,
    gOff: number,
    n: number,
    negLearningRate: number,
    momentum: number,
    nesterov: boolean,
    terms?: Float64Array,
  ): number;
  rmsprop(
    heap: ArrayBuffer,
    pOff: number,
    msOff: number,
    momOff: number,
    mgOff: number,
    gOff: number,
    n: number,
    decay: number,
    oneMinusDecay: number,
    momentum: number,
    learningRate: number,
    epsilon: number,
    terms?: Float64Array,
  ): number;
  /** One pass: returns Σ F·(θ−θ*)² and writes `gradScale · F · (θ − θ*)` to `outOff`. */
  ewcPenaltyGrad(
    heap: ArrayBuffer,
    thetaOff: number,
    anchorOff: number,
    fisherOff: number,
    outOff: number,
    n: number,
    gradScale: number,
  ): number;
  /** NHWC conv via im2col + sgemm; `geometry` is {@link convGeometry}'s layout. */
  conv2d(
    heap: ArrayBuffer,
    geometry: Int32Array,
    xOff: number,
    filterOff: number,
    outOff: number,
    biasOff: number,
    biasLen: number,
    activation: number,
    alpha: number,
  ): void;
  conv2dBackpropInput(heap: ArrayBuffer, geometry: Int32Array, dyOff: number, filterOff: number, dxOff: number): void;
  conv2dBackpropFilter(heap: ArrayBuffer, geometry: Int32Array, xOff: number, dyOff: number, dwOff: number): void;
  /** NHWC max pool (`geometry` with inC == outC; no dilation). */
  maxPool(heap: ArrayBuffer, geometry: Int32Array, xOff: number, outOff: number): void;
  maxPoolGrad(heap: ArrayBuffer, geometry: Int32Array, xOff: number, dyOff: number, dxOff: number): void;
  /** `out[r, j] = a[r, j] + b[j]` over `rows` x `cols` (`rows` 1: a same-shape add of `cols` values). */
  biasAdd(heap: ArrayBuffer, aOff: number, bOff: number, outOff: number, rows: number, cols: number): void;
  /** `out = max(0, x)` over `n` values, as `Math.max(0, x)` (NaN stays NaN). */
  relu(heap: ArrayBuffer, xOff: number, outOff: number, n: number): void;
  /** `out = dy · step(x)` over `n` values (tfjs's relu gradient, NaN where x is NaN). */
  reluGrad(heap: ArrayBuffer, dyOff: number, xOff: number, outOff: number, n: number): void;
  /**
   * A reset-after GRU sequence's forward pass (`gate` 0 sigmoid, 1 hard sigmoid): from `xw [batch,
   * steps, 3·units]`, `r [units, 3·units]`, `rb [3·units]`, writes the states and the gate cache.
   */
  gruForward(
    heap: ArrayBuffer,
    xwOff: number,
    rOff: number,
    rbOff: number,
    statesOff: number,
    zrOff: number,
    nOff: number,
    hnOff: number,
    batch: number,
    steps: number,
    units: number,
    gate: number,
  ): void;
  /** Its backward pass: `dy` of every state (`sequences`) or of the last; writes dxw, dR and drb. */
  gruBackward(
    heap: ArrayBuffer,
    dyOff: number,
    sequences: boolean,
    rOff: number,
    statesOff: number,
    zrOff: number,
    nOff: number,
    hnOff: number,
    dxwOff: number,
    drOff: number,
    drbOff: number,
    batch: number,
    steps: number,
    units: number,
    gate: number,
  ): void;
  /** `out[r, c] = offset[c] + (x[r, c] − mean[c]) · scale[c] / sqrt(variance[c] + epsilon)` (wasm's FusedBatchNorm). */
  batchNorm(
    heap: ArrayBuffer,
    xOff: number,
    meanOff: number,
    varianceOff: number,
    offsetOff: number,
    scaleOff: number,
    epsilon: number,
    outOff: number,
    rows: number,
    cols: number,
  ): void;
  /**
   * tfjs's FusedBatchNorm gradient for per-channel parameters in one pass: dx (rows x cols) and the
   * mean, variance, scale and offset gradients (cols each); an output offset of -1 is not computed.
   */
  batchNormGrad(
    heap: ArrayBuffer,
    xOff: number,
    dyOff: number,
    meanOff: number,
    scaleOff: number,
    invOff: number,
    negInvOff: number,
    minusHalfCubeOff: number,
    dxOff: number,
    dMeanOff: number,
    dVarianceOff: number,
    dScaleOff: number,
    dOffsetOff: number,
    rows: number,
    cols: number,
  ): void;
  /**
   * Batch norm in training over rows x cols (channels last): writes y and the per-channel batch mean,
   * biased variance and invStd = 1 / sqrt(variance + epsilon); sums in double over fixed row chunks.
   */
  batchNormTraining(
    heap: ArrayBuffer,
    xOff: number,
    scaleOff: number,
    offsetOff: number,
    epsilon: number,
    yOff: number,
    meanOff: number,
    varianceOff: number,
    invStdOff: number,
    rows: number,
    cols: number,
  ): void;
  /**
   * Its gradient: with xhat = (x − mean) · invStd, dOffset = Σ dy, dScale = Σ dy · xhat and
   * dx = scale · invStd / rows · (rows · dy − dOffset − xhat · dScale).
   */
  batchNormTrainingGrad(
    heap: ArrayBuffer,
    dyOff: number,
    xOff: number,
    scaleOff: number,
    meanOff: number,
    invStdOff: number,
    dxOff: number,
    dScaleOff: number,
    dOffsetOff: number,
    rows: number,
    cols: number,
  ): void;
  /** `out[o, i] = Σ_r x[o, r, i]` in order of r (x is outer x reduce x inner), divided by reduce when `mean`. */
  reduceMiddle(
    heap: ArrayBuffer,
    xOff: number,
    outOff: number,
    outer: number,
    reduce: number,
    inner: number,
    mean: boolean,
  ): void;
  /**
   * `out[o, r, i] = dy[o, i]` over an outer x reduce x inner output (the gradient of a Sum over the
   * middle block), each value divided by `divisor` unless it is 0 (Mean: the count).
   */
  broadcastRows(
    heap: ArrayBuffer,
    dyOff: number,
    outOff: number,
    outer: number,
    reduce: number,
    inner: number,
    divisor: number,
  ): void;
  /** `out = x[begin : begin + size]`; `geometry` is `[rank, ...xShape, ...begin, ...size]` (rank ≤ 8). */
  slice(heap: ArrayBuffer, geometry: Int32Array, xOff: number, outOff: number): void;
  /**
   * `out[s, :] = Σ x[r, :]` over the rows with `ids[r] == s`, in order of r (float32 x [rows, inner],
   * int32 ids, ids outside [0, segments) dropped; out [segments, inner]).
   */
  segmentSum(
    heap: ArrayBuffer,
    xOff: number,
    idsOff: number,
    outOff: number,
    rows: number,
    inner: number,
    segments: number,
  ): void;
  /** True when no float32 in the (byte offset, count) pairs of `spans` is NaN or ±Infinity. */
  allFinite(heap: ArrayBuffer, spans: Float64Array): boolean;
  /**
   * `out[r, j] = op(a, b)` over a rows x cols output (op: 0 add, 1 sub, 2 mul, 3 div, 4 squared
   * difference); each operand's mode says its layout: 0 full, 1 one row repeated, 2 one value.
   */
  binary(
    heap: ArrayBuffer,
    op: number,
    aOff: number,
    aMode: number,
    bOff: number,
    bMode: number,
    outOff: number,
    rows: number,
    cols: number,
  ): void;
}

/** The addon, or the reason it could not be loaded. */
export type AddonResult = { readonly addon: NativeAddon } | { readonly error: string };

let cached: AddonResult | undefined;

/** Loads `build/Release/engram_native.node` once (it is built by node-gyp at install time). */
export function loadAddon(): AddonResult {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  // The addon links libgomp (its OpenMP loops share OpenBLAS's pool), which reads its settings when
  // it is loaded, i.e. now. Its default (spinning ~300k iterations before sleeping) collapses
  // throughput when the cores are shared: sleeping waiters, unless the user chose otherwise.
  if (process.env['OMP_WAIT_POLICY'] === undefined && process.env['GOMP_SPINCOUNT'] === undefined) {
    process.env['OMP_WAIT_POLICY'] = 'passive';
  }
  try {
    cached = { addon: require('../../build/Release/engram_native.node') as NativeAddon };
  } catch (e) {
    const first = ((e as Error).message.split('\n')[0] ?? '').slice(0, 160);
    cached = { error: `native addon not built (${first})` };
  }
  return cached;
}
