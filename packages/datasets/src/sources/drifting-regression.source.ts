import { from, type Observable } from 'rxjs';
import {
  Rng,
  Type,
  type Batch,
  type BatchRequest,
  type BatchSource,
  type ComponentDescriptor,
  type ComponentServices,
  type DataSource,
  type Experience,
  type Static,
  type StreamInfo,
} from '@engram/core';

/** Options of the `drifting-regression` source. */
export const DriftingRegressionOptions = Type.Object(
  {
    features: Type.Integer({ minimum: 1, maximum: 10_000, default: 2, description: 'Inputs per sample.' }),
    targets: Type.Integer({ minimum: 1, maximum: 1000, default: 1, description: 'Real-valued targets per sample.' }),
    experiences: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 3,
      description: 'Regimes, one experience each: every regime has its own input region and its own function.',
    }),
    samplesPerExperience: Type.Integer({
      minimum: 2,
      maximum: 1_000_000,
      default: 500,
      description: 'Samples drawn per regime (training and test together).',
    }),
    testFraction: Type.Number({
      exclusiveMinimum: 0,
      exclusiveMaximum: 1,
      default: 0.2,
      description: "Share of each regime's samples held out as its test set.",
    }),
    shift: Type.Number({
      minimum: 0,
      default: 3,
      description: "Standard deviation of the regimes' input centres around 0 (0: every regime on the same inputs).",
    }),
    noise: Type.Number({ minimum: 0, default: 0.1, description: 'Standard deviation of the noise added to targets.' }),
  },
  { additionalProperties: false },
);
export type DriftingRegressionOptions = Static<typeof DriftingRegressionOptions>;

/** One regime's samples: `n` rows of `features` inputs and `targets` values. */
interface RegimeData {
  readonly x: Float32Array;
  readonly t: Float32Array;
  readonly n: number;
}

/**
 * Regime `e` (a pure function of `rng`): inputs `x ~ N(cₑ, 1)` around a centre `cₑ ~ N(0, shift²)`,
 * targets `y = Wₑ·tanh(x) + bₑ + ε` with `Wₑ, bₑ ~ N(0, 1)` and `ε ~ N(0, noise²)`: a concept shift (a new
 * function) on a covariate shift (a new input region) at every experience boundary.
 */
export function regimeData(o: DriftingRegressionOptions, rng: Rng): RegimeData {
  const { features: d, targets: k, samplesPerExperience: n } = o;
  const centre = Array.from({ length: d }, () => rng.normal() * o.shift);
  const w = Array.from({ length: k * d }, () => rng.normal());
  const b = Array.from({ length: k }, () => rng.normal());
  const x = new Float32Array(n * d);
  const t = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) x[i * d + j] = (centre[j] ?? 0) + rng.normal();
    for (let c = 0; c < k; c++) {
      let v = b[c] ?? 0;
      for (let j = 0; j < d; j++) v += (w[c * d + j] ?? 0) * Math.tanh(x[i * d + j] ?? 0);
      t[i * k + c] = v + o.noise * rng.normal();
    }
  }
  return { x, t, n };
}

/** Rows `from..to` of a regime as a finite {@link BatchSource}, shuffled per epoch from the request seed. */
class RegimeRows implements BatchSource {
  readonly size: number;

  constructor(
    private readonly data: RegimeData,
    private readonly from: number,
    private readonly to: number,
    private readonly features: number,
  ) {
    this.size = to - from;
  }

  async *batches(request: BatchRequest): AsyncIterable<Batch> {
    await Promise.resolve();
    const n = this.size;
    const order = request.shuffle ? new Rng(request.seed).derive(`epoch:${request.epoch}`).permutation(n) : undefined;
    const d = this.features;
    const k = this.data.t.length / this.data.n;
    for (let i = (request.startBatch ?? 0) * request.batchSize; i < n; i += request.batchSize) {
      if (request.signal?.aborted) return;
      const m = Math.min(n, i + request.batchSize) - i;
      const x = new Float32Array(m * d);
      const t = new Float32Array(m * k);
      for (let r = 0; r < m; r++) {
        const src = this.from + (order ? (order[i + r] as number) : i + r);
        x.set(this.data.x.subarray(src * d, (src + 1) * d), r * d);
        t.set(this.data.t.subarray(src * k, (src + 1) * k), r * k);
      }
      yield { x, y: new Int32Array(m), targetValues: t, sampleShape: [d] };
    }
  }
}

/**
 * `drifting-regression`: a seeded synthetic regression stream with a concept shift at every experience
 * (see {@link regimeData}); small enough to train in seconds. Each regime's last `testFraction` of rows
 * is its test set.
 */
export class DriftingRegressionSource implements DataSource {
  private readonly regimes: RegimeData[];

  constructor(
    private readonly o: DriftingRegressionOptions,
    services: Pick<ComponentServices, 'rng'>,
  ) {
    this.regimes = Array.from({ length: o.experiences }, (_, e) => regimeData(o, services.rng.derive(`regime:${e}`)));
  }

  describe(): Promise<StreamInfo> {
    return Promise.resolve({
      inputShape: [this.o.features],
      numClasses: this.o.targets,
      experiences: this.o.experiences,
      scenario: 'drifting-regression',
      regression: true,
    });
  }

  experiences(): Observable<Experience> {
    const d = this.o.features;
    return from(
      this.regimes.map((data, index): Experience => {
        const test = Math.max(1, Math.round(data.n * this.o.testFraction));
        return {
          index,
          name: `regime ${index}`,
          classes: [],
          train: new RegimeRows(data, 0, data.n - test, d),
          test: new RegimeRows(data, data.n - test, data.n, d),
        };
      }),
    );
  }
}

/** Registration of `drifting-regression`. */
export const driftingRegressionDescriptor: ComponentDescriptor = {
  role: 'dataset',
  kind: 'drifting-regression',
  description:
    'Seeded synthetic regression (task "regression"): each experience a new input region and a new target function.',
  options: DriftingRegressionOptions,
  create: (options, services) => new DriftingRegressionSource(options as DriftingRegressionOptions, services),
};
