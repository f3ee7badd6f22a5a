import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { Rng } from '@engram/core';
import { percentile } from './bench-stats.js';

/** Class centres of the soak's records (3 classes, 4 features). */
const CENTRES = [
  [2, 0, 0, 1],
  [-1, 2, 0, -1],
  [-1, -2, 1, 0],
];

/** What one minute of soak traffic saw. */
export interface TrafficMinute {
  readonly requests: number;
  readonly errors: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Labelled records produced into the stream during the minute. */
  readonly produced: number;
}

/**
 * The soak's clients: an open loop of `POST /predict` (one instance each) at `rate` requests/s over
 * keep-alive connections, and the delayed labels — every answered prediction's instance is added to
 * the training stream with its true label `delayMs` later (how labels join a live system: after the
 * answer). Requests that fail (the server restarting) are counted as errors and produce no record.
 * Randomness from `seed`. Started by `soak.main`, which reads a {@link TrafficMinute} each minute.
 */
export class SoakTraffic {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 32 });
  private readonly rng: Rng;
  private timer: NodeJS.Timeout | undefined;
  private latencies: number[] = [];
  private errors = 0;
  private producedNow = 0;
  /** Records added to the stream so far. */
  produced = 0;
  private readonly labels = new Set<NodeJS.Timeout>();
  private inFlight = 0;

  constructor(
    private readonly port: () => number,
    private readonly redis: Redis,
    private readonly stream: string,
    private readonly rate: number,
    private readonly delayMs: number,
    seed: number,
  ) {
    this.rng = new Rng(seed);
  }

  /** Starts sending (ticks every 10 ms, sending what the rate owes since the start). */
  start(): void {
    const t0 = performance.now();
    let sent = 0;
    this.timer = setInterval(() => {
      const owed = Math.floor(((performance.now() - t0) / 1000) * this.rate) - sent;
      for (let i = 0; i < owed; i++) {
        sent++;
        // Bounded: a stalled server is not buried under requests (they count as errors).
        if (this.inFlight >= 4 * this.rate) this.errors++;
        else this.send();
      }
    }, 10);
  }

  /** The figures since the last call. */
  minute(): TrafficMinute {
    const l = this.latencies;
    this.latencies = [];
    const m = {
      requests: l.length,
      errors: this.errors,
      p50Ms: l.length > 0 ? percentile(l, 50) : NaN,
      p99Ms: l.length > 0 ? percentile(l, 99) : NaN,
      produced: this.producedNow,
    };
    this.errors = 0;
    this.producedNow = 0;
    return m;
  }

  /** Stops sending; resolves once every answered prediction's label is in the stream. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    while (this.inFlight > 0 || this.labels.size > 0) await new Promise((r) => setTimeout(r, 50));
    this.agent.destroy();
  }

  private send(): void {
    const y = Math.floor(this.rng.next() * 3);
    const x = (CENTRES[y] as number[]).map((c) => c + this.rng.normal() * 0.8);
    const body = JSON.stringify({ instances: [x] });
    const started = performance.now();
    this.inFlight++;
    const req = request(
      {
        host: '127.0.0.1',
        port: this.port(),
        path: '/predict',
        method: 'POST',
        agent: this.agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          this.inFlight--;
          if (res.statusCode !== 200) {
            this.errors++;
            return;
          }
          this.latencies.push(performance.now() - started);
          this.label(x, y);
        });
      },
    );
    req.on('error', () => {
      this.inFlight--;
      this.errors++;
    });
    req.end(body);
  }

  /** The label arrives `delayMs` after the answer: the instance joins the training stream with it. */
  private label(x: number[], y: number): void {
    const t = setTimeout(() => {
      void this.redis
        .xadd(this.stream, '*', 'data', JSON.stringify({ x, y }))
        .then(() => {
          this.produced++;
          this.producedNow++;
        })
        .finally(() => this.labels.delete(t));
    }, this.delayMs);
    this.labels.add(t);
  }
}
