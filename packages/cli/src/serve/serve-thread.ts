import type { AddressInfo } from 'node:net';
import { availableParallelism, getPriority, setPriority } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { EngramEvent, LoadedPipeline, ServeSettings, StreamInfo } from '@engram/core';
import { feedbackChannelChanges } from '@engram/datasets';
import { answerPush, channelStatus, type ChannelStatus } from './channel-relay.js';
import type { HeldOutSlice } from './gate-samples.js';
import type { VersionInfo, WeightSnapshot } from './model-version.js';
import type { VersionDecision } from './version-history.js';
import type { SnapshotSink } from './publish.stage.js';
import type { ServeDoors } from './serve-doors.js';
import type { FromServeThread, ServeWorkerData, ToServeThread } from './serve-messages.js';

/** How much lower the training thread's CPU priority is than the serving thread's (nice steps). */
export const TRAINING_NICE = 5;

/** How often (ms) the feedback channel's queue depth is re-sent when it changed without an event. */
const CHANNEL_EVERY_MS = 250;

/**
 * The training thread's side of the serving thread (`serve-worker.ts`): starts it, and passes it the
 * run's data description, events, weight snapshots (buffers transferred, not copied) and the
 * feedback channel's status; queues the records it receives on POST /feedback into the run's
 * `feedback` source. A failure of the serving thread after start is reported once on stderr and
 * never reaches training.
 */
export class ServeThread implements SnapshotSink {
  private numbered = 0;
  private dead: string | undefined;
  private next = 0;
  private readonly settling = new Map<number, (info: VersionInfo | undefined) => void>();
  private lastChannel = '';
  /** {@link feedbackChannelChanges} when the channel's status was last sent from an event. */
  private channelChanges = -1;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly exited: Promise<void>;
  /** Receives the serving thread's promotion decisions (the run writes them to its events). */
  onDecision: (d: VersionDecision) => void = () => undefined;
  /** The version served last, as the serving thread reported it. */
  latest: VersionInfo | undefined;

  private constructor(
    private readonly worker: Worker,
    readonly address: AddressInfo,
    private readonly channel: string | undefined,
  ) {
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (m: FromServeThread) => this.receive(m));
    worker.on('error', (e) => this.fail(e.message));
    void this.exited.then(() => this.fail('the serving thread has exited'));
    if (channel !== undefined) {
      this.timer = setInterval(() => this.sendChannel(), CHANNEL_EVERY_MS);
      this.timer.unref();
    }
  }

  /**
   * Starts the serving thread for `loaded` and resolves once it listens; rejects with the reason
   * (busy port, bad address, pipeline not loadable) when it cannot.
   */
  static start(
    loaded: LoadedPipeline,
    settings: ServeSettings,
    extraPlugins: readonly string[] = [],
    sets: readonly string[] = [],
    doors?: ServeDoors,
  ): Promise<ServeThread> {
    const data: ServeWorkerData = {
      file: loaded.file,
      definition: JSON.stringify(loaded.definition),
      extraPlugins: [...extraPlugins],
      sets: [...sets],
      settings,
      ...(doors ? { doors } : {}),
    };
    const worker = new Worker(new URL('./serve-worker.js', import.meta.url), { workerData: data });
    return new Promise((resolve, reject) => {
      const onMessage = (m: FromServeThread): void => {
        if (m.type !== 'listening' && m.type !== 'failed') return;
        worker.off('message', onMessage);
        worker.off('error', onError);
        if (m.type === 'listening') {
          yieldToServing();
          resolve(new ServeThread(worker, m.address, settings.feedback?.channel));
        } else void worker.terminate().then(() => reject(new Error(m.message)));
      };
      const onError = (e: Error): void => {
        worker.off('message', onMessage);
        reject(new Error(`the serving thread failed to start: ${e.message}`));
      };
      worker.on('message', onMessage);
      worker.once('error', onError);
    });
  }

  private send(m: ToServeThread, transfer: ArrayBuffer[] = []): void {
    if (this.dead === undefined) this.worker.postMessage(m, transfer);
  }

  private fail(reason: string): void {
    if (this.dead !== undefined) return;
    this.dead = reason;
    if (this.timer) clearInterval(this.timer);
    for (const settle of this.settling.values()) settle(this.latest);
    this.settling.clear();
  }

  private receive(m: FromServeThread): void {
    switch (m.type) {
      case 'published':
        this.latest = m.info;
        break;
      case 'decision':
        this.onDecision(m.decision);
        break;
      case 'build-failed':
        process.stderr.write(
          `warning: serving: a model version could not be built (${m.message}); the previous one is still served\n`,
        );
        break;
      case 'settled':
        this.settling.get(m.rid)?.(m.info);
        this.settling.delete(m.rid);
        break;
      case 'push':
        void answerPush(m).then((a) => this.send(a));
        break;
      default:
        break;
    }
  }

  private sendChannel(): void {
    if (this.channel === undefined) return;
    const status: ChannelStatus | undefined = channelStatus(this.channel);
    const key = JSON.stringify(status ?? null);
    if (key === this.lastChannel) return;
    this.lastChannel = key;
    this.send({ type: 'channel', status });
  }

  /**
   * Tells the serving thread what the run's data is and which tfjs backend trains (call at run start,
   * before the first snapshot).
   */
  info(info: StreamInfo, backend: string): void {
    this.send({ type: 'info', info, backend });
  }

  /** Passes one run event (and, with batch and run ends, the samples and steps trained so far). */
  event(event: EngramEvent, trained?: { samples: number; step: number; tensors?: number; heapUsed?: number }): void {
    // A channel that has just opened (or closed) is made known before the event that may follow it;
    // its queue depth is refreshed by the timer, not on every batch.
    const changes = feedbackChannelChanges();
    if (changes !== this.channelChanges) {
      this.channelChanges = changes;
      this.sendChannel();
    }
    this.send({ type: 'event', event, ...(trained ? { trained } : {}) });
  }

  /** {@link SnapshotSink}: the next version number. */
  nextNumber(): number {
    return ++this.numbered;
  }

  /** {@link SnapshotSink}: sends `snapshot` to be built and served; its weight buffer moves to the serving thread. */
  submit(snapshot: WeightSnapshot): void {
    this.send({ type: 'snapshot', snapshot }, [snapshot.data]);
  }

  /** {@link SnapshotSink}: sends an experience's held-out slice to the promotion gates (buffers copied). */
  holdOut(slice: HeldOutSlice): void {
    this.send({ type: 'held-out', slice });
  }

  /** {@link SnapshotSink}: whether a version was numbered (each is submitted right after). */
  get current(): true | undefined {
    return this.numbered > 0 ? true : undefined;
  }

  /** Resolves with the served version once every snapshot submitted so far is built. */
  settled(): Promise<VersionInfo | undefined> {
    if (this.dead !== undefined) return Promise.resolve(this.latest);
    const rid = this.next++;
    return new Promise((resolve) => {
      this.settling.set(rid, resolve);
      this.send({ type: 'settle', rid });
    });
  }

  /** Stops the server (open requests end, SSE clients are closed) and waits for the thread to exit. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.dead === undefined) {
      this.send({ type: 'close' });
      const slow = setTimeout(() => void this.worker.terminate(), 5_000);
      await this.exited;
      clearTimeout(slow);
    }
    this.fail('closed');
  }
}

/**
 * Makes room for the serving thread, called once it runs and before the run starts:
 *
 * - Lowers this thread's CPU priority by {@link TRAINING_NICE} (Linux nice values are per thread; the
 *   serving thread keeps its own, and the threads this one starts later — OpenBLAS's — inherit the
 *   lower one), so a request does not wait for the scheduler to preempt training.
 * - Leaves one core to the serving thread: OpenBLAS (and Engram's native kernels) get
 *   `cores − 1` threads (at least 1) through `OMP_NUM_THREADS`, read when the native kernels load at
 *   the run's start, unless the user set `OMP_NUM_THREADS` or `OPENBLAS_NUM_THREADS` already. On 2
 *   cores two training threads otherwise stall each other at every barrier a request preempts.
 *
 * Training loses only the CPU requests use (docs/performance.md, Serving). Lowering one's own
 * priority needs no privilege; a failure changes nothing.
 */
function yieldToServing(): void {
  try {
    setPriority(0, Math.min(19, getPriority(0) + TRAINING_NICE));
  } catch {
    // not supported here: training keeps its priority
  }
  if (process.env['OMP_NUM_THREADS'] === undefined && process.env['OPENBLAS_NUM_THREADS'] === undefined) {
    process.env['OMP_NUM_THREADS'] = String(Math.max(1, availableParallelism() - 1));
  }
}
