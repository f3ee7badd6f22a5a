import type { ServerResponse } from 'node:http';
import type { EngramEvent } from '@engram/core';

/** Options of an {@link EventFeed}. */
export interface EventFeedOptions {
  /** Recent events replayed to a new client (`run-start` is always kept; evaluations, boundaries and experience starts up to 4 × this). */
  readonly history: number;
  /** A client whose unsent output exceeds this many bytes is disconnected (a slow reader cannot grow memory). */
  readonly maxBufferedBytes: number;
}

/**
 * `GET /events`: the run's events as Server-Sent Events (`event: <type>`, `data: <JSON>`, `id: <n>`).
 * A new client first receives the run's `run-start`, its `evaluation`, `boundary`, `experience-start`
 * and `run-end` events (the last 4 × `history`) and the most recent others (`history`), then the live
 * ones: memory stays bounded however long the run. Writing never blocks the run: a client that does
 * not keep up is dropped.
 */
export class EventFeed {
  private readonly clients = new Set<ServerResponse>();
  private readonly recent: string[] = [];
  private readonly pinned: string[] = [];
  private start: string | undefined;
  private seq = 0;
  private ended = false;

  constructor(private readonly options: EventFeedOptions = { history: 500, maxBufferedBytes: 4 * 1024 * 1024 }) {}

  /** Number of connected clients. */
  get size(): number {
    return this.clients.size;
  }

  /** Sends one event to every client and remembers it for later ones. */
  publish(e: EngramEvent): void {
    const frame = `id: ${++this.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
    if (e.type === 'run-start') {
      this.start = frame;
    } else if (
      e.type === 'evaluation' ||
      e.type === 'boundary' ||
      e.type === 'experience-start' ||
      e.type === 'run-end'
    ) {
      this.pinned.push(frame);
      if (this.pinned.length > this.options.history * 4) this.pinned.shift();
    } else {
      this.recent.push(frame);
      if (this.recent.length > this.options.history) this.recent.shift();
    }
    for (const res of this.clients) this.write(res, frame);
  }

  /** Attaches a response as an SSE client (headers, the remembered events, then live ones). */
  attach(res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(': engram events\n\n');
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
    // Pinned frames first (run-start, evaluations), then the recent ones: the order a dashboard needs.
    for (const frame of [...(this.start !== undefined ? [this.start] : []), ...this.pinned, ...this.recent])
      this.write(res, frame);
    if (this.ended) res.end();
  }

  /** Ends every stream (the server is closing). */
  close(): void {
    this.ended = true;
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private write(res: ServerResponse, frame: string): void {
    if (res.writableLength > this.options.maxBufferedBytes) {
      this.clients.delete(res);
      res.destroy();
      return;
    }
    res.write(frame);
  }
}
