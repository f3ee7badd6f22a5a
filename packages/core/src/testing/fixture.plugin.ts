import { Observable, of, type OperatorFunction } from 'rxjs';
import { ContainerModule } from 'inversify';
import { Type, type Static } from '@sinclair/typebox';
import type { Batch } from '../data/batch.js';
import { ArrayBatchSource, type BatchRequest, type BatchSource } from '../data/batch-source.js';
import type { DataSource } from '../plugin-api/data-source.js';
import type { Experience, StreamInfo } from '../data/experience.js';
import type { ComponentDescriptor, ComponentServices } from '../plugin-api/component-descriptor.js';
import { PLUGIN_API_VERSION, type PluginManifest } from '../plugin-api/plugin-manifest.js';
import { TOKENS } from '../plugin/tokens.js';
import type { Rng } from '../random/rng.js';
import * as tf from '@tensorflow/tfjs';
import type { ExperienceContext } from '../plugin-api/contexts.js';
import { QuadraticPenalty } from '../plugin-api/quadratic-penalty.js';
import type { Strategy } from '../plugin-api/strategy.js';
import type { EngramEvent } from '../events/engram-event.js';
import type { RunLogger } from '../plugin-api/run-logger.js';
import { eachItem } from '../stages/each-item.js';
import type { RunItem } from '../plugin-api/run-item.js';
import type { Stage, StageRun } from '../plugin-api/stage.js';
import type { SerializedState } from '../plugin-api/serialized-state.js';

/**
 * Test fixtures as a plugin (used by core's own tests, never by the library): `blobs`, a seeded
 * Gaussian-blob dataset that is finite (class-incremental) or endless, and `recorder`, a strategy that
 * logs every hook call to {@link hookLog}.
 */
export const BlobOptions = Type.Object(
  {
    classes: Type.Integer({ minimum: 2, default: 4 }),
    experiences: Type.Integer({ minimum: 1, default: 2 }),
    perClass: Type.Integer({ minimum: 1, default: 40 }),
    features: Type.Integer({ minimum: 1, default: 8 }),
    endless: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);
type BlobOpts = Static<typeof BlobOptions>;

function blobs(rng: Rng, classes: readonly number[], perClass: number, features: number, centers: Float32Array): Batch {
  const n = classes.length * perClass;
  const x = new Float32Array(n * features);
  const y = new Int32Array(n);
  let r = 0;
  for (const c of classes) {
    for (let i = 0; i < perClass; i++, r++) {
      y[r] = c;
      for (let f = 0; f < features; f++)
        x[r * features + f] = (centers[c * features + f] as number) + 0.3 * rng.normal();
    }
  }
  return { x, y, sampleShape: [features] };
}

/** An endless source that produces batches on demand and counts how many it made. */
export class EndlessBlobSource implements BatchSource {
  readonly endless = true;
  produced = 0;
  constructor(
    private readonly rng: Rng,
    private readonly opts: BlobOpts,
    private readonly centers: Float32Array,
  ) {}
  async *batches(request: BatchRequest): AsyncIterable<Batch> {
    const all = Array.from({ length: this.opts.classes }, (_, i) => i);
    while (!request.signal?.aborted) {
      this.produced++;
      const b = blobs(this.rng, all, 1, this.opts.features, this.centers);
      yield {
        ...b,
        x: b.x.slice(0, Math.min(request.batchSize, b.y.length) * this.opts.features),
        y: b.y.slice(0, request.batchSize),
      };
    }
  }
}

class BlobDataSource implements DataSource {
  private readonly centers: Float32Array;
  /** The endless source of the last `experiences()` call (tests read `produced`). */
  static lastEndless: EndlessBlobSource | undefined;
  /** How many blob sources were built (tests of what a run builds read it). */
  static builds = 0;
  constructor(
    private readonly opts: BlobOpts,
    private readonly services: ComponentServices,
  ) {
    BlobDataSource.builds++;
    const rng = services.rng.derive('centers');
    this.centers = Float32Array.from({ length: opts.classes * opts.features }, () => 2 * rng.normal());
  }
  async describe(): Promise<StreamInfo> {
    return {
      inputShape: [this.opts.features],
      numClasses: this.opts.classes,
      experiences: this.opts.endless ? 'endless' : this.opts.experiences,
      scenario: this.opts.endless ? 'online' : 'class-incremental',
    };
  }
  private endlessRng: Rng | undefined;
  private restored: number[] | undefined;
  /** Endless mode: the generator's state is the stream's position (pull-based: every batch made was trained on). */
  state(): unknown {
    return this.endlessRng?.state() ?? null;
  }
  restore(state: unknown): void {
    this.restored = state as number[];
  }
  experiences(): Observable<Experience> {
    const rng = this.services.rng.derive('data');
    if (this.opts.endless) {
      if (this.restored) rng.restore(this.restored);
      this.endlessRng = rng;
      const train = new EndlessBlobSource(rng, this.opts, this.centers);
      BlobDataSource.lastEndless = train;
      return of({ index: 0, classes: Array.from({ length: this.opts.classes }, (_, i) => i), train });
    }
    const per = Math.ceil(this.opts.classes / this.opts.experiences);
    const exps: Experience[] = [];
    for (let e = 0; e < this.opts.experiences; e++) {
      const classes = Array.from({ length: this.opts.classes }, (_, i) => i).slice(e * per, (e + 1) * per);
      exps.push({
        index: e,
        classes,
        train: new ArrayBatchSource(blobs(rng, classes, this.opts.perClass, this.opts.features, this.centers)),
        test: new ArrayBatchSource(
          blobs(rng, classes, Math.ceil(this.opts.perClass / 2), this.opts.features, this.centers),
        ),
      });
    }
    return of(...exps);
  }
}

/** Every hook call of every `recorder` strategy, as `<label>:<hook>`. */
export const hookLog: string[] = [];

class RecorderStrategy implements Strategy {
  readonly name = 'recorder';
  constructor(private readonly label: string) {}
  beforeExperience(): void {
    hookLog.push(`${this.label}:beforeExperience`);
  }
  adaptModel(): void {
    hookLog.push(`${this.label}:adaptModel`);
  }
  trainData(): void {
    hookLog.push(`${this.label}:trainData`);
  }
  transformBatch(b: Batch): Batch {
    hookLog.push(`${this.label}:transformBatch`);
    return b;
  }
  penalty(): void {
    hookLog.push(`${this.label}:penalty`);
  }
  afterBackward(g: import('@tensorflow/tfjs').NamedTensorMap): import('@tensorflow/tfjs').NamedTensorMap {
    hookLog.push(`${this.label}:afterBackward`);
    return g;
  }
  afterBatch(): void {
    hookLog.push(`${this.label}:afterBatch`);
  }
  afterExperience(): void {
    hookLog.push(`${this.label}:afterExperience`);
  }
}

/** What every `probe` logger saw: attach, the number of events, completion and close, by label. */
export const probeLog: string[] = [];

/** A logger that records its life (and throws where told). */
class ProbeLogger implements RunLogger {
  constructor(
    private readonly label: string,
    private readonly throwOn: string,
  ) {}
  attach(events$: Observable<EngramEvent>): void {
    probeLog.push(`${this.label}:attach`);
    if (this.throwOn === 'attach') throw new Error('probe attach failed');
    events$.subscribe({
      next: (e) => {
        if (this.throwOn === 'event' && e.type === 'batch-end') throw new Error('probe event failed');
      },
      complete: () => probeLog.push(`${this.label}:complete`),
    });
  }
  async close(): Promise<void> {
    probeLog.push(`${this.label}:close`);
    if (this.throwOn === 'close') throw new Error('probe close failed');
  }
}

/** A stage that counts the batches it sees, checkpoints its count and writes it into the run's outputs. */
class CountStage implements Stage {
  readonly name = 'count';
  private batches = 0;
  operator(run: StageRun): OperatorFunction<RunItem, RunItem> {
    return eachItem((item) => {
      if (item.kind === 'batch') this.batches++;
      if (item.kind === 'run-end') run.outputs.set('count', { batches: this.batches });
    });
  }
  state(): SerializedState {
    return { meta: this.batches };
  }
  restore(s: SerializedState): void {
    this.batches = Number(s.meta);
  }
}

/** A stage that fails at a given step (failure-hygiene tests). */
class FailStage implements Stage {
  readonly name = 'fail';
  constructor(private readonly atStep: number) {}
  operator(run: StageRun): OperatorFunction<RunItem, RunItem> {
    return eachItem((item) => {
      if (item.kind === 'batch' && run.cursor.step >= this.atStep)
        throw new Error(`stage failed at step ${run.cursor.step}\nsecond line`);
    });
  }
}

/** A quadratic pull (importance 1) towards the weights each experience started from: exercises the penalty path. */
class AnchoredStrategy implements Strategy {
  readonly name = 'anchored';
  private anchors: Array<{ param: tf.Variable; anchor: tf.Tensor; importance: tf.Tensor }> = [];

  constructor(private readonly lambda: number) {}

  beforeExperience(ctx: ExperienceContext): void {
    this.dispose();
    if (ctx.experience.index === 0) return;
    this.anchors = ctx.model
      .trainableVariables()
      .map((param) => ({ param, anchor: tf.clone(param), importance: tf.onesLike(param) }));
  }

  penalty(): QuadraticPenalty | void {
    return this.anchors.length > 0 ? new QuadraticPenalty(this.anchors, this.lambda) : undefined;
  }

  dispose(): void {
    for (const a of this.anchors) tf.dispose([a.anchor, a.importance]);
    this.anchors = [];
  }
}

const descriptors: ComponentDescriptor[] = [
  {
    role: 'logger',
    kind: 'probe',
    description: 'Records its life in probeLog (test fixture).',
    options: Type.Object(
      { label: Type.String({ default: 'p' }), throwOn: Type.String({ default: 'never' }) },
      { additionalProperties: false },
    ),
    create: (o) => new ProbeLogger(String(o['label']), String(o['throwOn'])),
  },
  {
    role: 'stage',
    kind: 'count',
    description: 'Counts batches (test fixture).',
    options: Type.Object({}, { additionalProperties: false }),
    create: () => new CountStage(),
  },
  {
    role: 'stage',
    kind: 'fail',
    description: 'Throws at a step (test fixture).',
    options: Type.Object({ atStep: Type.Integer({ default: 3 }) }, { additionalProperties: false }),
    create: (o) => new FailStage(Number(o['atStep'])),
  },
  {
    role: 'dataset',
    kind: 'blobs',
    description: 'Seeded Gaussian blobs (test fixture).',
    options: BlobOptions,
    create: (o, s) => new BlobDataSource(o as BlobOpts, s),
  },
  {
    role: 'strategy',
    kind: 'recorder',
    description: 'Records hook calls (test fixture).',
    options: Type.Object({ label: Type.String({ default: 'r' }) }, { additionalProperties: false }),
    create: (o) => new RecorderStrategy(String(o['label'])),
  },
  {
    role: 'strategy',
    kind: 'plain',
    description: 'Plain fine-tuning (test fixture).',
    options: Type.Object({}, { additionalProperties: false }),
    create: () => ({ name: 'plain' }),
  },
  {
    role: 'strategy',
    kind: 'anchored',
    description: 'Quadratic pull towards the weights at experience start (test fixture).',
    options: Type.Object({ lambda: Type.Number({ default: 0.5 }) }, { additionalProperties: false }),
    create: (o) => new AnchoredStrategy(Number(o['lambda'])),
  },
];

/** The fixture plugin's manifest. */
const fixturePlugin: PluginManifest = {
  name: 'engram-test-fixtures',
  apiVersion: PLUGIN_API_VERSION,
  module: new ContainerModule(({ bind }) => {
    for (const d of descriptors) bind(TOKENS.Component).toConstantValue(d);
  }),
};
export default fixturePlugin;
export { BlobDataSource };
