import { Rng, sampleLength, type Batch } from '@engram/core';

/**
 * What the forgetting gate scores on: the first samples of one experience, preprocessed (test phase)
 * when they were taken, or (`source: 'replay'`) a seeded sample of the strategy's replay memory.
 */
export interface HeldOutSlice {
  /** The experience of a test or prequential slice; the experience being trained for a replay slice. */
  readonly experience: number;
  /** `replay`: drawn from the replay memory at the version's publish (replaced by each newer draw). */
  readonly source?: 'replay';
  /** Preprocessed inputs, row-major `[n, ...sampleShape]`. */
  readonly x: Float32Array;
  readonly y: Int32Array;
  readonly sampleShape: number[];
  /** Task labels, when the data has them. */
  readonly task?: Int32Array;
}

/** A labelled feedback record: the raw inputs of a prediction and the label that arrived for it. */
export interface LabelledRecord {
  readonly x: Float32Array;
  readonly y: number;
}

/**
 * What the promotion gates score versions on, kept in the serving thread: the held-out slice of each
 * experience (sent by the training thread as it fills, see `HeldOutCollector`), the last labelled
 * feedback records (POST /feedback) and the inputs of the last requests (POST /predict, for the
 * finite-output check). Bounded: one slice per experience, two rings of `last` entries.
 */
export class GateSamples {
  private readonly slices = new Map<number, HeldOutSlice>();
  private readonly labelled: LabelledRecord[] = [];
  private readonly requests: Float32Array[] = [];
  /** Best accuracy a served version has had on each slice, with the slice's size then. */
  private readonly best = new Map<number, { samples: number; accuracy: number }>();

  constructor(
    /** Labelled records kept (serve.promote.feedback.last). */
    private readonly last: number,
    /** Request inputs kept for the finite check. */
    private readonly recent = 64,
  ) {}

  /** The last slice drawn from the replay memory. */
  private memory: HeldOutSlice | undefined;

  /**
   * Adds or replaces an experience's held-out slice, or replaces the replay-memory slice (called when
   * the training thread sends one, a replay slice just before the snapshot it was drawn with).
   */
  holdOut(slice: HeldOutSlice): void {
    if (slice.source === 'replay') this.memory = slice;
    else this.slices.set(slice.experience, slice);
  }

  /**
   * Notes a served version's accuracy on an experience's slice and returns the best any served version
   * has had on it (reset when the slice has grown since).
   */
  servedScore(experience: number, samples: number, accuracy: number): number {
    const b = this.best.get(experience);
    const best = b && b.samples === samples ? Math.max(b.accuracy, accuracy) : accuracy;
    this.best.set(experience, { samples, accuracy: best });
    return best;
  }

  /** Held-out slices by experience, oldest experience first, then the replay-memory slice if any. */
  heldOut(): HeldOutSlice[] {
    const slices = [...this.slices.values()].sort((a, b) => a.experience - b.experience);
    return this.memory ? [...slices, this.memory] : slices;
  }

  /** Records a label that arrived for a prediction (called by POST /feedback once accepted). */
  label(record: LabelledRecord): void {
    this.labelled.push(record);
    if (this.labelled.length > this.last) this.labelled.shift();
  }

  /** The last labelled records, oldest first. */
  feedback(): readonly LabelledRecord[] {
    return this.labelled;
  }

  /** Keeps the raw inputs of one predicted instance (called by POST /predict). */
  request(x: Float32Array): void {
    this.requests.push(x);
    if (this.requests.length > this.recent) this.requests.shift();
  }

  /** The inputs of the last requests, oldest first. */
  recentRequests(): readonly Float32Array[] {
    return this.requests;
  }
}

/**
 * Builds held-out slices during a run (in the publish stage, training thread): the first `size`
 * samples of each experience's test set (experiences) or of its prequential test batches (a stream,
 * taken before they are trained on). Reports a slice each time it grows, at most once per call.
 */
export class HeldOutCollector {
  private readonly filling = new Map<number, { x: number[]; y: number[]; task: number[]; shape: number[] }>();

  constructor(private readonly size: number) {}

  /** Whether the slice of `experience` is full already. */
  full(experience: number): boolean {
    return (this.filling.get(experience)?.y.length ?? 0) >= this.size;
  }

  /** Adds the samples of a preprocessed batch to `experience`'s slice; returns the slice when it grew. */
  add(experience: number, batch: Batch): HeldOutSlice | undefined {
    let f = this.filling.get(experience);
    if (!f) {
      f = { x: [], y: [], task: [], shape: [...batch.sampleShape] };
      this.filling.set(experience, f);
    }
    const room = this.size - f.y.length;
    const n = Math.min(room, batch.y.length);
    if (n <= 0) return undefined;
    const len = batch.x.length / batch.y.length;
    for (let i = 0; i < n * len; i++) f.x.push(batch.x[i] as number);
    for (let i = 0; i < n; i++) {
      f.y.push(batch.y[i] as number);
      if (batch.task) f.task.push(batch.task[i] as number);
    }
    return {
      experience,
      x: Float32Array.from(f.x),
      y: Int32Array.from(f.y),
      sampleShape: f.shape,
      ...(f.task.length === f.y.length && f.task.length > 0 ? { task: Int32Array.from(f.task) } : {}),
    };
  }
}

/**
 * A seeded slice of a replay memory for the forgetting gate: `size` distinct rows (all of them when
 * the memory holds fewer) chosen by a generator seeded with the pipeline's `seed` — the same memory
 * always gives the same slice. Called by the publish stage (training thread) at each publish of a
 * stream run; it copies the rows and draws from no generator of the run.
 */
export function memorySlice(memory: Batch, size: number, seed: number, experience: number): HeldOutSlice {
  const total = memory.y.length;
  const k = Math.min(size, total);
  const pool = Array.from({ length: total }, (_, i) => i);
  const rng = new Rng(seed).derive('serve-promote-replay');
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(total - i);
    const t = pool[i] as number;
    pool[i] = pool[j] as number;
    pool[j] = t;
  }
  const rows = pool.slice(0, k).sort((a, b) => a - b);
  const len = sampleLength(memory.sampleShape);
  const x = new Float32Array(k * len);
  const y = new Int32Array(k);
  const task = memory.task ? new Int32Array(k) : undefined;
  rows.forEach((r, i) => {
    x.set(memory.x.subarray(r * len, (r + 1) * len), i * len);
    y[i] = memory.y[r] as number;
    if (task) task[i] = memory.task?.[r] as number;
  });
  return { experience, source: 'replay', x, y, sampleShape: [...memory.sampleShape], ...(task ? { task } : {}) };
}
