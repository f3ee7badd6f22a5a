import {
  StringEnum,
  Type,
  type ComponentDescriptor,
  type ComponentServices,
  type DataSource,
  type Rng,
  type Static,
} from '@engram/core';
import type { LabelledData } from '../data/labelled-set.js';
import { LiveBatchSource } from '../live/live-batch-source.js';
import { LiveDataSource } from '../live/live-data-source.js';
import { scenarioOption } from '../scenarios/scenario.schema.js';
import { FiniteDataSource } from './finite-data-source.js';

/** Options of the `synthetic` source. */
export const SyntheticOptions = Type.Object(
  {
    numClasses: Type.Integer({
      minimum: 2,
      maximum: 100_000,
      default: 4,
      description: 'Number of Gaussian blobs (classes).',
    }),
    features: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 2, description: 'Dimension of a sample.' }),
    samplesPerClass: Type.Integer({
      minimum: 2,
      maximum: 10_000_000,
      default: 200,
      description: 'Finite mode: samples drawn per class.',
    }),
    separation: Type.Number({
      minimum: 0,
      default: 4,
      description: 'Standard deviation of the class centres around 0.',
    }),
    spread: Type.Number({
      exclusiveMinimum: 0,
      default: 1,
      description: 'Standard deviation of a sample around its class centre.',
    }),
    scenario: scenarioOption({ type: 'class-incremental', classesPerExperience: 2, shuffleClasses: false }),
    testFraction: Type.Number({
      exclusiveMinimum: 0,
      exclusiveMaximum: 1,
      default: 0.2,
      description: 'Finite set: share of each class held out for testing.',
    }),
    endless: Type.Boolean({
      default: false,
      description: 'Generate an endless live stream (stream mode) instead of a finite set.',
    }),
    drift: StringEnum(['none', 'abrupt', 'gradual'] as const, {
      default: 'none',
      description:
        'Endless mode only (refused otherwise): abrupt = new class centres every `driftEvery` samples; gradual = ' +
        'centres move by `driftMagnitude` per `driftEvery` samples.',
    }),
    driftEvery: Type.Integer({ minimum: 1, default: 1000, description: 'Samples per drift period.' }),
    driftMagnitude: Type.Number({
      minimum: 0,
      default: 1,
      description: 'Gradual drift: distance a centre moves per period.',
    }),
    buffer: Type.Integer({ minimum: 1, default: 1024, description: 'Endless mode: bounded buffer size (samples).' }),
    policy: StringEnum(['block', 'drop-oldest', 'sample'] as const, {
      default: 'block',
      description:
        'Endless mode: what a full buffer does. Only block gives a reproducible stream (and an exact resume); the ' +
        'others drop samples depending on timing.',
    }),
  },
  {
    additionalProperties: false,
    // A finite set is drawn once: drift would be silently ignored, so it is refused.
    if: { not: { properties: { endless: { const: true } }, required: ['endless'] } },
    then: {
      not: {
        description:
          'has "drift" but not "endless": true; a finite synthetic set does not drift (use "endless": true, or a ' +
          'domain-incremental scenario)',
        properties: { drift: { enum: ['abrupt', 'gradual'] } },
        required: ['drift'],
      },
    },
  },
);
export type SyntheticOptions = Static<typeof SyntheticOptions>;

/** Most values a finite synthetic set may hold (512 MB of float32). */
export const MAX_SYNTHETIC_VALUES = 128 * 1024 * 1024;

/** Draws class centres: `numClasses * features` values, normal with standard deviation `separation`. */
function centres(o: SyntheticOptions, rng: Rng): Float32Array {
  return Float32Array.from({ length: o.numClasses * o.features }, () => rng.normal() * o.separation);
}

/** One sample of class `c` around `mu`. */
function draw(mu: Float32Array, c: number, o: SyntheticOptions, rng: Rng, out: Float32Array): void {
  for (let f = 0; f < o.features; f++) out[f] = (mu[c * o.features + f] as number) + rng.normal() * o.spread;
}

/** The finite data set: `samplesPerClass` samples of every class, class-major. Pure function of `rng`. */
export function syntheticData(o: SyntheticOptions, rng: Rng): LabelledData {
  const values = o.numClasses * o.samplesPerClass * o.features;
  if (values > MAX_SYNTHETIC_VALUES) {
    throw new Error(
      `synthetic: numClasses × samplesPerClass × features is ${values.toLocaleString('en')} values, over the limit ` +
        `of ${MAX_SYNTHETIC_VALUES.toLocaleString('en')} (512 MB); lower one of them`,
    );
  }
  const mu = centres(o, rng.derive('centres'));
  const sampler = rng.derive('samples');
  const n = o.numClasses * o.samplesPerClass;
  const x = new Float32Array(n * o.features);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(i / o.samplesPerClass);
    y[i] = c;
    draw(mu, c, o, sampler, x.subarray(i * o.features, (i + 1) * o.features));
  }
  return { train: { x, y, sampleShape: [o.features] }, numClasses: o.numClasses };
}

/** A {@link BlobStream}'s exact position: samples drawn, generator states, current centres (abrupt drift only). */
export interface BlobPosition {
  readonly t: number;
  readonly sampler: readonly number[];
  readonly centres: readonly number[];
  /** The current class centres; only abrupt drift redraws them (otherwise they follow from the seed). */
  readonly mu?: ArrayLike<number>;
}

/**
 * An endless seeded generator of `[x, y]` pairs with drift; `t` counts samples. `position()` /
 * `seek()` capture and restore the exact point in the sequence (for checkpoints).
 */
export class BlobStream {
  private mu: Float32Array;
  private readonly direction: Float32Array;
  private readonly sampler: Rng;
  private readonly centreRng: Rng;
  t = 0;

  constructor(
    private readonly o: SyntheticOptions,
    rng: Rng,
  ) {
    this.centreRng = rng.derive('centres');
    this.mu = centres(o, this.centreRng);
    const dirRng = rng.derive('drift-direction');
    this.direction = Float32Array.from({ length: this.mu.length }, () => dirRng.normal());
    this.sampler = rng.derive('samples');
  }

  /** The next sample. */
  next(): { x: Float32Array; y: number } {
    const o = this.o;
    if (o.drift === 'abrupt' && this.t > 0 && this.t % o.driftEvery === 0) this.mu = centres(o, this.centreRng);
    const c = this.sampler.int(o.numClasses);
    const x = new Float32Array(o.features);
    if (o.drift === 'gradual') {
      const shift = (this.t / o.driftEvery) * o.driftMagnitude;
      for (let f = 0; f < o.features; f++) {
        const k = c * o.features + f;
        x[f] = (this.mu[k] as number) + shift * (this.direction[k] as number) + this.sampler.normal() * o.spread;
      }
    } else {
      draw(this.mu, c, o, this.sampler, x);
    }
    this.t++;
    return { x, y: c };
  }

  /**
   * Where the stream is now: the next `next()` after `seek(position())` draws the same sample. Cheap
   * (two 4-word RNG states; `mu` is the live centres array, replaced, never mutated, by a redraw);
   * pass it through {@link blobPositionJson} before serialising.
   */
  position(): BlobPosition {
    return {
      t: this.t,
      sampler: this.sampler.state(),
      centres: this.centreRng.state(),
      ...(this.o.drift === 'abrupt' ? { mu: this.mu } : {}),
    };
  }

  /** Moves the stream to a `position()` of a stream with the same options and seed. */
  seek(p: BlobPosition): void {
    const ok =
      typeof p === 'object' &&
      p !== null &&
      Number.isInteger(p.t) &&
      p.t >= 0 &&
      Array.isArray(p.sampler) &&
      p.sampler.length === 4 &&
      Array.isArray(p.centres) &&
      p.centres.length === 4 &&
      (p.mu === undefined || p.mu.length === this.mu.length) &&
      (p.mu !== undefined || this.o.drift !== 'abrupt');
    if (!ok)
      throw new Error(
        `synthetic: a checkpoint position must come from the same stream (got ${JSON.stringify(p).slice(0, 120)})`,
      );
    this.t = p.t;
    this.sampler.restore(p.sampler);
    this.centreRng.restore(p.centres);
    if (p.mu) this.mu = Float32Array.from(p.mu);
  }
}

/** A {@link BlobPosition} as plain JSON (float32 centres survive JSON exactly). */
export function blobPositionJson(p: BlobPosition): BlobPosition {
  return { t: p.t, sampler: [...p.sampler], centres: [...p.centres], ...(p.mu ? { mu: Array.from(p.mu) } : {}) };
}

function createSynthetic(o: SyntheticOptions, services: ComponentServices): DataSource {
  if (!o.endless)
    return new FiniteDataSource(
      async () => syntheticData(o, services.rng.derive('data')),
      o.scenario,
      o.testFraction,
      services.rng.derive('scenario'),
    );
  const train = new LiveBatchSource({
    capacity: o.buffer,
    policy: o.policy,
    sampleShape: [o.features],
    name: 'synthetic',
    events: services.events,
    rng: services.rng.derive('buffer'),
  });
  const stream = new BlobStream(o, services.rng.derive('data'));
  // A generator is never caught up: every batch is full, so the run is reproducible (with policy block).
  train.caughtUp = false;
  let running = false;
  let restored: BlobPosition = stream.position();
  const feed = {
    start: () => {
      running = true;
      void (async () => {
        // A fast producer: yields to the event loop every 256 samples so `drop-oldest`/`sample` cannot starve the trainer.
        while (running) {
          for (let i = 0; i < 256 && running; i++) {
            const sample = stream.next();
            await train.push({ ...sample, cursor: stream.position() });
          }
          await new Promise<void>((r) => setImmediate(r));
        }
      })().catch(() => undefined);
    },
    stop: async () => {
      running = false;
    },
    // The generator state after the last sample the trainer pulled: buffered samples are drawn again on resume.
    state: () => blobPositionJson((train.cursor as BlobPosition | undefined) ?? restored),
    restore: (s: unknown) => {
      restored = s as BlobPosition;
      stream.seek(restored);
    },
  };
  return new LiveDataSource(
    { inputShape: [o.features], numClasses: o.numClasses, scenario: `synthetic-${o.drift}` },
    train,
    feed,
  );
}

/** The `synthetic` dataset component. */
export const syntheticDescriptor: ComponentDescriptor = {
  role: 'dataset',
  kind: 'synthetic',
  description:
    'Seeded Gaussian-blob classification: a finite set cut by a scenario, or an endless stream with abrupt or gradual drift.',
  options: SyntheticOptions,
  create: (options, services) => createSynthetic(options as SyntheticOptions, services),
};
