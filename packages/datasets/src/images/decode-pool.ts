import { Worker } from 'node:worker_threads';
import type { DecodeReply, DecodeRequest, DecodeSpec } from './decode-spec.js';

interface Job {
  readonly request: DecodeRequest;
  readonly resolve: (reply: DecodeReply) => void;
  readonly reject: (error: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  /** Jobs posted to this worker and not answered yet, by request id (the worker does them in order). */
  readonly jobs: Map<number, Job>;
}

/**
 * A fixed pool of decode workers (node:worker_threads), started on first use. A job is posted at once to
 * the worker with the fewest unanswered jobs, which queues it and decodes its jobs one after another: a
 * worker never waits for the main thread (busy training a batch, synchronously) to hand it the next job,
 * so decoding runs ahead by as many batches as the consumer has asked for. A worker is referenced (keeps
 * the process alive) only while it holds jobs, so an idle pool never delays exit; `close()` terminates
 * them. A worker that dies fails its jobs and is replaced.
 */
export class DecodePool {
  private slots: Slot[] = [];
  private nextId = 0;
  private closed = false;

  constructor(private readonly threads: number) {}

  /** Decodes `files` (in order) into one block; resolves when a worker has done them all. */
  decode(files: readonly string[], spec: DecodeSpec): Promise<DecodeReply> {
    if (this.closed) return Promise.reject(new Error('the image decode pool is closed'));
    if (this.slots.length === 0) this.slots = Array.from({ length: this.threads }, () => this.spawn());
    return new Promise<DecodeReply>((resolve, reject) => {
      const request: DecodeRequest = { id: this.nextId++, files, spec };
      const slot = this.slots.reduce((a, b) => (b.jobs.size < a.jobs.size ? b : a));
      slot.jobs.set(request.id, { request, resolve, reject });
      slot.worker.ref();
      slot.worker.postMessage(request);
    });
  }

  /** Jobs posted to the workers and not answered yet. */
  get inFlight(): number {
    return this.slots.reduce((n, s) => n + s.jobs.size, 0);
  }

  /** Terminates the workers; unanswered jobs fail. */
  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots;
    this.slots = [];
    for (const slot of slots) this.failAll(slot, new Error('the image decode pool is closed'));
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private spawn(): Slot {
    const worker = new Worker(new URL('./decode.worker.js', import.meta.url));
    worker.unref();
    const slot: Slot = { worker, jobs: new Map() };
    worker.on('message', (reply: DecodeReply) => {
      const job = slot.jobs.get(reply.id);
      slot.jobs.delete(reply.id);
      if (slot.jobs.size === 0) worker.unref();
      job?.resolve(reply);
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
    this.failAll(slot, error);
    void slot.worker.terminate();
    this.slots[i] = this.spawn();
  }

  private failAll(slot: Slot, error: Error): void {
    const jobs = [...slot.jobs.values()];
    slot.jobs.clear();
    slot.worker.unref();
    for (const job of jobs) job.reject(error);
  }
}
