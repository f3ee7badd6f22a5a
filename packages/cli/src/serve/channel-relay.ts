import { feedbackChannel, type FeedbackChannel, type FeedbackRecord } from '@engram/datasets';

/** What the serving thread knows of the run's feedback channel: its shape and queue, or nothing open. */
export interface ChannelStatus {
  readonly name: string;
  readonly length: number;
  readonly numClasses: number;
  readonly labels?: readonly string[];
  /** A regression channel's targets per record. */
  readonly targets?: number;
  readonly depth: number;
  readonly dropped: number;
}

/** A labelled record the serving thread asks the training thread to queue (`rid` pairs the answer). */
export interface PushRequest {
  readonly type: 'push';
  readonly rid: number;
  readonly channel: string;
  readonly x: Float32Array;
  readonly y: number;
  /** A regression record's targets. */
  readonly t?: Float32Array;
}

/** The training thread's answer to a {@link PushRequest}. */
export type PushAnswer =
  | { readonly type: 'pushed'; readonly rid: number; readonly status: ChannelStatus | undefined }
  | { readonly type: 'push-failed'; readonly rid: number; readonly message: string };

/** The status of the feedback channel `name` in this thread (the training thread), if one is open. */
export function channelStatus(name: string): ChannelStatus | undefined {
  const c = feedbackChannel(name);
  return (
    c && {
      name,
      length: c.length,
      numClasses: c.numClasses,
      ...(c.labels ? { labels: c.labels } : {}),
      ...(c.targets !== undefined ? { targets: c.targets } : {}),
      depth: c.depth(),
      dropped: c.dropped(),
    }
  );
}

/**
 * Training thread: queues a record the serving thread received on POST /feedback into the run's
 * feedback source (waiting for room, as the channel's policy says) and answers with the new status.
 */
export async function answerPush(request: PushRequest): Promise<PushAnswer> {
  const channel = feedbackChannel(request.channel);
  if (!channel)
    return {
      type: 'push-failed',
      rid: request.rid,
      message: `the feedback source of channel "${request.channel}" has closed`,
    };
  try {
    await channel.push({ x: request.x, y: request.y, ...(request.t ? { t: request.t } : {}) });
    return { type: 'pushed', rid: request.rid, status: channelStatus(request.channel) };
  } catch (e) {
    return { type: 'push-failed', rid: request.rid, message: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * Serving thread: the run's feedback channels as the training thread last described them. The
 * {@link FeedbackChannel} it hands out pushes by message and resolves when the training thread has
 * queued the record, so POST /feedback answers 202 only for a record the run will train on.
 */
export class RelayedChannels {
  private status: ChannelStatus | undefined;
  private next = 0;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();

  /** @param send posts a {@link PushRequest} to the training thread */
  constructor(private readonly send: (request: PushRequest) => void) {}

  /** Records the training thread's latest description (undefined: no channel open). */
  update(status: ChannelStatus | undefined): void {
    this.status = status;
  }

  /** Settles the push `answer.rid` refers to. */
  settle(answer: PushAnswer): void {
    const w = this.waiting.get(answer.rid);
    if (!w) return;
    this.waiting.delete(answer.rid);
    if (answer.type === 'pushed') {
      this.status = answer.status;
      w.resolve();
    } else w.reject(new Error(answer.message));
  }

  /** Fails every push still waiting (the training thread is gone). */
  abandon(reason: string): void {
    for (const w of this.waiting.values()) w.reject(new Error(reason));
    this.waiting.clear();
  }

  /** The channel called `name`, as a {@link FeedbackChannel}, if the run has it open. */
  channel(name: string): FeedbackChannel | undefined {
    const s = this.status;
    if (!s || s.name !== name) return undefined;
    return {
      name,
      length: s.length,
      numClasses: s.numClasses,
      ...(s.labels ? { labels: s.labels } : {}),
      ...(s.targets !== undefined ? { targets: s.targets } : {}),
      push: (r: FeedbackRecord) =>
        new Promise<void>((resolve, reject) => {
          const rid = this.next++;
          this.waiting.set(rid, { resolve, reject });
          this.send({ type: 'push', rid, channel: name, x: r.x, y: r.y, ...(r.t ? { t: r.t } : {}) });
        }),
      depth: () => this.status?.depth ?? 0,
      dropped: () => this.status?.dropped ?? 0,
    };
  }
}
