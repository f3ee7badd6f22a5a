import { connect, type Socket } from 'node:net';
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
 * One keep-alive HTTP/1.1 connection sending a prepared request and reading the answer by its
 * Content-Length: next to no client work per request (as autocannon), so the load generator takes
 * little of the CPU the measured process needs on a small machine.
 */
class Connection {
  private readonly socket: Socket;
  private pending: Buffer = Buffer.alloc(0);
  private waiting: ((status: number) => void) | undefined;
  private failed: ((e: Error) => void) | undefined;
  private readonly opened: Promise<void>;

  constructor(host: string, port: number) {
    this.socket = connect({ host, port, noDelay: true });
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
    this.socket.on('data', (d: Buffer) => this.receive(d));
    this.socket.on('error', (e) => this.failed?.(e));
    this.socket.on('close', () => this.failed?.(new Error('connection closed')));
  }

  private receive(d: Buffer): void {
    this.pending = this.pending.length === 0 ? d : Buffer.concat([this.pending, d]);
    const head = this.pending.indexOf('\r\n\r\n');
    if (head < 0) return;
    const headers = this.pending.subarray(0, head).toString('latin1');
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(headers)?.[1] ?? 0);
    if (this.pending.length < head + 4 + length) return;
    this.pending = this.pending.subarray(head + 4 + length);
    const done = this.waiting;
    this.waiting = undefined;
    this.failed = undefined;
    done?.(Number(headers.slice(9, 12)));
  }

  /** Sends `request` (complete HTTP/1.1 bytes) and resolves with the answer's status. */
  async send(request: Buffer): Promise<number> {
    await this.opened;
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failed = reject;
      this.socket.write(request);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * A bounded loopback load generator for `POST /predict` (no extra tool): either a closed loop of
 * `concurrency` clients or an open loop at `rate` requests/s, for `seconds`, over keep-alive
 * connections (a new one only when every open one is busy). Latency is measured per request from
 * send to full answer.
 */
export async function loadPredict(o: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const url = new URL(o.base);
  const body = Buffer.from(o.body);
  const request = Buffer.concat([
    Buffer.from(
      `POST /predict HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`,
    ),
    body,
  ]);
  const idle: Connection[] = [];
  const all: Connection[] = [];
  const started = performance.now();
  const end = started + o.seconds * 1000;
  const one = async (): Promise<void> => {
    const t = performance.now();
    let c = idle.pop();
    if (!c) all.push((c = new Connection(url.hostname, Number(url.port))));
    try {
      const status = await c.send(request);
      idle.push(c);
      if (status !== 200) errors++;
      else latencies.push(performance.now() - t);
    } catch {
      c.close();
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
  for (const c of all) c.close();
  return {
    requests: latencies.length,
    errors,
    seconds,
    perSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}
