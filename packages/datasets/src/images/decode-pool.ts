import { Worker } from 'node:worker_threads';
import type { DecodeReply, DecodeRequest, DecodeSpec } from './decode-spec.js';

interface Job {
  readonly request: DecodeRequest;
  readonly resolve: (reply: DecodeReply) => void;
  readonly reject: (error: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  job: Job | undefined;
}

/**
 * A fixed pool of decode workers (node:worker_threads), started on first use. Jobs queue FIFO and go to
 * the first idle worker. A worker is referenced (keeps the process alive) only while it holds a job, so
 * an idle pool never delays exit; `close()` terminates them. A worker that dies fails its job and is
 * replaced.
 */
export class DecodePool {
  private slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 0;
  private closed = false;

  constructor(private readonly threads: number) {}

  /** Decodes `files` (in order) into one block; resolves when a worker has done them all. */
  decode(files: readonly string[], spec: DecodeSpec): Promise<DecodeReply> {
    if (this.closed) return Promise.reject(new Error('the image decode pool is closed'));
    if (this.slots.length === 0) this.slots = Array.from({ length: this.threads }, () => this.spawn());
    return new Promise<DecodeReply>((resolve, reject) => {
      this.queue.push({ request: { id: this.nextId++, files, spec }, resolve, reject });
      this.pump();
    });
  }

  /** Jobs waiting for a worker (not counting those being decoded). */
  get waiting(): number {
    return this.queue.length;
  }

  /** Terminates the workers; pending jobs fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('the image decode pool is closed'));
    const slots = this.slots;
    this.slots = [];
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private spawn(): Slot {
    const worker = new Worker(new URL('./decode.worker.js', import.meta.url));
    worker.unref();
    const slot: Slot = { worker, job: undefined };
    worker.on('message', (reply: DecodeReply) => {
      const job = slot.job;
      slot.job = undefined;
      worker.unref();
      job?.resolve(reply);
      this.pump();
    });
    worker.on('error', (e) => this.lost(slot, e));
    worker.on('exit', (code) => {
      if (!this.closed) this.lost(slot, new Error(`an image decode worker exited (code ${code})`));
    });
    return slot;
  }

  private lost(slot: Slot, error: Error): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    slot.job?.reject(error);
    slot.job = undefined;
    void slot.worker.terminate();
    this.slots[i] = this.spawn();
    this.pump();
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.job !== undefined) continue;
      const job = this.queue.shift();
      if (!job) return;
      slot.job = job;
      slot.worker.ref();
      slot.worker.postMessage(job.request);
    }
  }
}
