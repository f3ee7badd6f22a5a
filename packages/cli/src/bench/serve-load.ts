import { percentile } from './bench-stats.js';

/** What one load phase measured. */
export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Options of {@link loadPredict}. */
export interface LoadOptions {
  readonly base: string;
  /** The request body (JSON text), the same for every request. */
  readonly body: string;
  readonly seconds: number;
  /** Closed loop: this many requests in flight at once (as fast as answered). */
  readonly concurrency?: number;
  /** Open loop instead: this many requests per second, spread evenly (bounded: at most 4 × rate in flight). */
  readonly rate?: number;
}

/**
 * A bounded loopback load generator for `POST /predict` (no extra tool): either a closed loop of
 * `concurrency` clients or an open loop at `rate` requests/s, for `seconds`. Latency is measured per
 * request from send to full answer.
 */
export async function loadPredict(o: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const end = started + o.seconds * 1000;
  const one = async (): Promise<void> => {
    const t = performance.now();
    try {
      const res = await fetch(`${o.base}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: o.body });
      await res.arrayBuffer();
      if (res.status !== 200) errors++;
      else latencies.push(performance.now() - t);
    } catch {
      errors++;
    }
  };
  if (o.rate !== undefined) {
    const interval = 1000 / o.rate;
    const inFlight = new Set<Promise<void>>();
    for (let next = started; next < end; next += interval) {
      const wait = next - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (inFlight.size >= o.rate * 4) continue; // the server is not keeping up: shed instead of queueing without bound
      const p = one().finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
  } else {
    const worker = async (): Promise<void> => {
      while (performance.now() < end) await one();
    };
    await Promise.all(Array.from({ length: o.concurrency ?? 1 }, worker));
  }
  const seconds = (performance.now() - started) / 1000;
  return { requests: latencies.length, errors, seconds, perSecond: latencies.length / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}
