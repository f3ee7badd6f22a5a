import {
  concatBatches,
  Type,
  type AfterBatchContext,
  type Batch,
  type ComponentDescriptor,
  type ComponentServices,
  type Rng,
  type SerializedState,
  type Static,
  type Strategy,
  StringEnum,
} from '@engram/core';
import { memoryState, restoreMemory } from './memory-state.js';
import { ReplayBuffer } from './replay-buffer.js';

/** Options of `replay`. */
export const ReplayOptions = Type.Object(
  {
    bufferSize: Type.Integer({ minimum: 1, default: 1000, description: 'Samples the memory holds.' }),
    policy: StringEnum(['reservoir', 'class-balanced'] as const, {
      default: 'reservoir',
      description: 'What a full memory keeps: a uniform reservoir or a class-balanced reservoir (CBRS).',
    }),
    ratio: Type.Number({
      minimum: 0,
      default: 1,
      description: 'Replayed samples per new sample in each batch (ignored when replayBatchSize is set).',
    }),
    replayBatchSize: Type.Optional(
      Type.Integer({ minimum: 0, description: 'Exact number of replayed samples added to each batch.' }),
    ),
  },
  { additionalProperties: false },
);

/**
 * Experience replay with a bounded memory (Chaudhry et al. 2019, "On Tiny Episodic Memories in
 * Continual Learning"; Rolnick et al. 2019).
 *
 * - `transformBatch` appends a random draw from the memory to the batch (none before anything is
 *   stored), keeping the incoming rows.
 * - `afterBatch` offers the incoming rows (not the replayed ones) to the memory.
 * State = the memory, its counters and both generators.
 */
export class ReplayStrategy implements Strategy {
  readonly name = 'replay';
  readonly buffer: ReplayBuffer;
  private readonly draw: Rng;
  private incoming: Batch | undefined;
  private experiences = 0;

  constructor(
    private readonly options: Static<typeof ReplayOptions>,
    services: ComponentServices,
  ) {
    this.buffer = new ReplayBuffer(options.bufferSize, options.policy, services.rng.derive('buffer'));
    this.draw = services.rng.derive('draw');
  }

  transformBatch(batch: Batch): Batch {
    this.incoming = batch;
    const k = this.options.replayBatchSize ?? Math.round(this.options.ratio * batch.y.length);
    const replay = this.buffer.sample(k, this.draw);
    return replay ? concatBatches([batch, replay]) : batch;
  }

  afterBatch(ctx: AfterBatchContext): void {
    this.buffer.add(this.incoming ?? ctx.batch, this.experiences);
    this.incoming = undefined;
  }

  afterExperience(): void {
    this.experiences++;
  }

  /** The memory's rows (copies), for serving's promotion gates (`Strategy.memory`). */
  memory(): Batch | undefined {
    return this.buffer.all();
  }

  state(): SerializedState {
    return memoryState(this.buffer, this.draw, this.experiences);
  }

  restore(state: SerializedState): void {
    this.experiences = restoreMemory(state, 'replay', this.buffer, this.draw);
  }
}

/** Registration of `replay`. */
export const replayDescriptors: ComponentDescriptor[] = [
  {
    role: 'strategy',
    kind: 'replay',
    description: 'Experience replay: mixes samples from a bounded reservoir or class-balanced memory into every batch.',
    options: ReplayOptions,
    create: (o, services) => new ReplayStrategy(o as Static<typeof ReplayOptions>, services),
  },
];
