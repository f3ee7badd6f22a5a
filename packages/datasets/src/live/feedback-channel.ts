import type { LiveBatchSource } from './live-batch-source.js';

/** What a {@link FeedbackChannel} accepts: one labelled record, features as the source declared them. */
export interface FeedbackRecord {
  readonly x: Float32Array;
  /** The class (0 for a regression channel). */
  readonly y: number;
  /** A regression channel's targets (`targets` values). */
  readonly t?: Float32Array;
}

/**
 * The in-process door of a `feedback` data source: a model server (`engram run --serve`, POST
 * /feedback) pushes labelled records through it into the source's bounded buffer, which the trainer
 * pulls like any live stream. Opened when the source's stream starts, closed when the source closes.
 */
export interface FeedbackChannel {
  readonly name: string;
  /** Features per record (`prod(inputShape)`). */
  readonly length: number;
  readonly numClasses: number;
  /** Class names, when the source declares `labels` (then `y` may be given as a name). */
  readonly labels?: readonly string[];
  /** Set for a regression channel (`targetCount`): targets per record, given as `t` instead of a class. */
  readonly targets?: number;
  /** Queues one record; with policy `block` resolves only when there is room. */
  push(record: FeedbackRecord): Promise<void>;
  /** Records waiting in the buffer (not yet trained on). */
  depth(): number;
  /** Records the buffer's policy discarded so far. */
  dropped(): number;
}

// The channels open in this process. A module-level map, not a global: with `@engram/core` a peer
// dependency there is one copy of this package in a project, and the server that pushes into a channel
// imports this same module.
const channels = new Map<string, FeedbackChannel>();
function registry(): Map<string, FeedbackChannel> {
  return channels;
}

// Opens and closes so far.
let changes = 0;
function changed(): void {
  changes += 1;
}

/**
 * How many times a feedback channel was opened or closed in this process: a cheap check, for hot
 * paths, of whether {@link feedbackChannel} may answer differently than when last asked.
 */
export function feedbackChannelChanges(): number {
  return changes;
}

/** The open feedback channel called `name`, if a `feedback` source of a run in this process opened it. */
export function feedbackChannel(name: string): FeedbackChannel | undefined {
  return registry().get(name);
}

/** Opens channel `name` over `train`; a second open of the same name is an error (two runs cannot share one). */
export function openFeedbackChannel(name: string, train: LiveBatchSource, spec: FeedbackSpec): FeedbackChannel {
  const reg = registry();
  if (reg.has(name))
    throw new Error(
      `feedback channel "${name}" is already open in this process (another run's feedback source); give this one another "channel"`,
    );
  const channel: FeedbackChannel = {
    name,
    length: spec.length,
    numClasses: spec.numClasses,
    ...(spec.labels ? { labels: spec.labels } : {}),
    ...(spec.targets !== undefined ? { targets: spec.targets } : {}),
    push: (r) => {
      // the door of the run: a record from another thread is checked like any live record
      const bad = feedbackProblem(r, spec);
      if (bad !== undefined) return Promise.reject(new Error(bad));
      return train.push(spec.targets !== undefined ? { x: r.x, y: 0, t: r.t as Float32Array } : { x: r.x, y: r.y });
    },
    depth: () => train.queue.length,
    dropped: () => train.queue.dropped,
  };
  reg.set(name, channel);
  changed();
  return channel;
}

/** The shape of a feedback channel's records: features, classes (or regression targets), class names. */
export interface FeedbackSpec {
  readonly length: number;
  readonly numClasses: number;
  readonly labels?: readonly string[];
  /** Regression targets per record (a regression channel). */
  readonly targets?: number | undefined;
}

/** Why a feedback record cannot be trained on (wrong length, a value not finite in float32, a bad label or target), if it cannot. */
export function feedbackProblem(r: FeedbackRecord, spec: FeedbackSpec): string | undefined {
  if (!(r.x instanceof Float32Array) || r.x.length !== spec.length)
    return `a feedback record needs ${spec.length} float32 features, got ${r.x instanceof Float32Array ? r.x.length : typeof r.x}`;
  const i = r.x.findIndex((v) => !Number.isFinite(v));
  if (i >= 0) return `feature ${i} of the feedback record is not a finite float32 number (${r.x[i]})`;
  if (spec.targets !== undefined) {
    if (!(r.t instanceof Float32Array) || r.t.length !== spec.targets)
      return `a regression feedback record needs ${spec.targets} float32 targets, got ${r.t instanceof Float32Array ? r.t.length : 'none'}`;
    const k = r.t.findIndex((v) => !Number.isFinite(v));
    return k >= 0 ? `target ${k} of the feedback record is not a finite float32 number (${r.t[k]})` : undefined;
  }
  if (!Number.isInteger(r.y) || r.y < 0 || r.y >= spec.numClasses)
    return `the feedback label ${r.y} is not a class index below ${spec.numClasses}`;
  return undefined;
}

/** Closes channel `name` if `channel` is the one open under it. */
export function closeFeedbackChannel(channel: FeedbackChannel): void {
  const reg = registry();
  if (reg.get(channel.name) !== channel) return;
  reg.delete(channel.name);
  changed();
}
