import type { Batch } from '@engram/core';

/** The first samples of one experience, preprocessed (test phase) when they were taken. */
export interface HeldOutSlice {
  readonly experience: number;
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

  /** Adds or replaces an experience's held-out slice (called when the training thread sends one). */
  holdOut(slice: HeldOutSlice): void {
    this.slices.set(slice.experience, slice);
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

  /** Held-out slices by experience, oldest experience first. */
  heldOut(): HeldOutSlice[] {
    return [...this.slices.values()].sort((a, b) => a.experience - b.experience);
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
