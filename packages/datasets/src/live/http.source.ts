import { isUtf8 } from 'node:buffer';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Type, type ComponentDescriptor, type ComponentServices, type Static } from '@engram/core';
import { LiveBatchSource, type Sample } from './live-batch-source.js';
import { LiveDataSource } from './live-data-source.js';
import { journalOption, LiveJournal, type JournalPosition } from './live-journal.js';
import { liveOptions, liveRecordSpec, parseLiveLine, parseLiveRecord, policyOption } from './live-options.js';

/** Options of the `http` source. */
export const HttpOptions = Type.Object(
  {
    ...liveOptions,
    host: Type.String({
      minLength: 1,
      default: '127.0.0.1',
      description: 'Interface to bind (default loopback only).',
    }),
    port: Type.Integer({
      minimum: 0,
      maximum: 65535,
      default: 8765,
      description: 'TCP port (0 = any free port, reported in a warning event).',
    }),
    maxBodyBytes: Type.Integer({ minimum: 1, default: 1048576, description: 'Larger request bodies get 413.' }),
    policy: policyOption('drop-oldest'),
    journal: journalOption,
  },
  { additionalProperties: false },
);
export type HttpOptions = Static<typeof HttpOptions>;

/** Outcome of parsing a request body: the samples, or the reasons it was rejected. */
type BodyResult = { samples: Sample[] } | { errors: string[] };

/**
 * Parses a body holding one JSON record, a JSON array of records, or JSON lines. All-or-nothing: one bad
 * record rejects the body, so a client never has to guess which records were taken.
 */
export function parseBody(body: string, r: ReturnType<typeof liveRecordSpec>): BodyResult {
  const errors: string[] = [];
  const samples: Sample[] = [];
  let whole: unknown;
  let isWhole = true;
  try {
    whole = JSON.parse(body);
  } catch {
    isWhole = false;
  }
  if (isWhole) {
    const records = Array.isArray(whole) ? whole : [whole];
    records.forEach((rec, i) => {
      const row = parseLiveRecord(rec, r);
      if ('error' in row) errors.push(`record ${i}: ${row.error}`);
      else samples.push(row);
    });
  } else {
    body.split('\n').forEach((text, i) => {
      if (text.trim() === '') return;
      const row = parseLiveLine(text, r);
      if ('error' in row) errors.push(`line ${i + 1}: ${row.error}`);
      else samples.push(row);
    });
  }
  if (errors.length === 0 && samples.length === 0) errors.push('empty body: no records');
  return errors.length > 0 ? { errors: errors.slice(0, 20) } : { samples };
}

/** Where the first invalid UTF-8 sequence of `body` is, as a one-line reason (line and byte offset). */
function invalidUtf8(body: Buffer): string {
  const lossy = body.toString('utf8');
  let byte = 0;
  let from = 0;
  for (let i = lossy.indexOf('\uFFFD'); i >= 0; i = lossy.indexOf('\uFFFD', i + 1)) {
    byte += Buffer.byteLength(lossy.slice(from, i), 'utf8');
    if (!(body[byte] === 0xef && body[byte + 1] === 0xbf && body[byte + 2] === 0xbd)) break;
    byte += 3;
    from = i + 1;
  }
  let line = 1;
  for (let k = 0; k < byte; k++) if (body[k] === 0x0a) line++;
  return `line ${line}: invalid UTF-8 at byte ${byte} of the body (records must be UTF-8 JSON)`;
}

/**
 * An HTTP endpoint receiving samples: `POST` a JSON record, a JSON array of records or JSON lines; the
 * answer is 202 `{accepted, buffered, dropped}`, 400 `{error, errors}` for bad records, 413 for a body
 * over `maxBodyBytes`, 405 for other methods (`GET` returns the counters). Every failure is answered,
 * never thrown: a bad client cannot crash the run. With a {@link LiveJournal}, the records of a request
 * are appended and fsynced (one group commit per request) before they are queued and the 202 is sent.
 */
export class HttpFeed {
  private server: Server | undefined;
  /** Sockets whose bytes stopped parsing as HTTP (a body longer than its Content-Length, garbage after it). */
  private readonly malformed = new WeakSet<Socket>();
  /** The request being handled on a socket: a parse error after it lets that request answer it. */
  private readonly handling = new WeakSet<Socket>();
  accepted = 0;
  rejected = 0;

  constructor(
    private readonly o: HttpOptions,
    private readonly train: LiveBatchSource,
    private readonly r: ReturnType<typeof liveRecordSpec>,
    private readonly services: ComponentServices,
    private readonly journal?: LiveJournal,
  ) {}

  /** Starts listening; resolves with the bound address. */
  listen(): Promise<AddressInfo> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => this.reply(res, 500, { error: (err as Error).message }));
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      this.malformed.add(socket);
      // a request still being read on this socket answers for both (400, nothing accepted)
      if (this.handling.has(socket)) return;
      if (!socket.writable) return void socket.destroy();
      const body = `${JSON.stringify({ error: `malformed HTTP request (${err.code ?? err.message}): nothing was accepted` })}\n`;
      socket.end(
        `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (err) =>
        reject(new Error(`http source cannot listen on ${this.o.host}:${this.o.port}: ${err.message}`)),
      );
      server.listen(this.o.port, this.o.host, () => {
        const address = server.address() as AddressInfo;
        this.services.events.emit({
          type: 'warning',
          message: `http source listening on http://${address.address}:${address.port}/ (POST JSON or JSON lines)`,
        });
        resolve(address);
      });
    });
  }

  /** Stops accepting connections and closes idle ones. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.on('error', () => undefined);
    const socket = req.socket;
    this.handling.add(socket);
    res.once('close', () => {
      this.handling.delete(socket);
      if (this.malformed.has(socket)) socket.destroySoon();
    });
    if (req.method === 'GET') return this.reply(res, 200, this.counters());
    if (req.method !== 'POST') return this.reply(res, 405, { error: 'use POST with JSON or JSON lines' });
    const declared = Number(req.headers['content-length'] ?? Number.NaN);
    if (declared > this.o.maxBodyBytes) return this.tooLarge(req, res);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > this.o.maxBodyBytes) return this.tooLarge(req, res);
      chunks.push(chunk);
    }
    const body = Buffer.concat(chunks);
    if (this.malformed.has(req.socket)) {
      // more bytes followed the declared Content-Length than HTTP allows: the request is refused whole
      this.rejected++;
      return this.reply(
        res,
        400,
        {
          error: `the request's bytes do not end where its Content-Length (${req.headers['content-length'] ?? 'none'}) says: malformed HTTP, nothing was accepted`,
        },
        true,
      );
    }
    if (!isUtf8(body)) {
      // refused, never silently replaced by U+FFFD (that would train on, or journal, altered records)
      this.rejected++;
      const error = invalidUtf8(body);
      return this.reply(res, 400, { error, errors: [error] });
    }
    const parsed = parseBody(body.toString('utf8'), this.r);
    if ('errors' in parsed) {
      this.rejected++;
      return this.reply(res, 400, { error: parsed.errors[0], errors: parsed.errors });
    }
    if (this.journal) await this.journal.commit(parsed.samples);
    else for (const s of parsed.samples) await this.train.push(s);
    this.accepted += parsed.samples.length;
    this.reply(res, 202, { accepted: parsed.samples.length, ...this.counters() });
  }

  private tooLarge(req: IncomingMessage, res: ServerResponse): void {
    this.rejected++;
    this.reply(res, 413, { error: `body larger than maxBodyBytes (${this.o.maxBodyBytes})` }, true);
    req.resume();
  }

  private counters(): Record<string, number> {
    return {
      received: this.accepted,
      buffered: this.train.queue.length,
      dropped: this.train.queue.dropped,
      rejectedRequests: this.rejected,
    };
  }

  private reply(res: ServerResponse, status: number, body: unknown, close = false): void {
    if (res.headersSent) return;
    res.writeHead(status, { 'content-type': 'application/json', ...(close ? { connection: 'close' } : {}) });
    res.end(`${JSON.stringify(body)}\n`);
  }
}

/**
 * Builds the `http` live source; the server starts when the experience is subscribed. Resume without
 * `journal`: posted samples cannot be replayed; a checkpoint keeps only the count trained on
 * (`state().delivered`), and samples buffered but not yet trained when the process died are lost
 * (clients may re-post them). With `journal`, every acknowledged record is in the journal, a
 * checkpoint saves the journal position `{ offset, line }` after the last record trained on, and a
 * resumed source replays the rest of the journal before the requests that arrive meanwhile (they
 * wait for the replay). A request whose answer never came may have been journalled: re-posting it
 * can train on it twice.
 */
export function createHttpSource(
  o: HttpOptions,
  services: ComponentServices,
): LiveDataSource & { feedServer: HttpFeed; ready: () => Promise<AddressInfo> } {
  const r = liveRecordSpec(o, 'http');
  const train = new LiveBatchSource({
    capacity: o.buffer,
    policy: o.policy,
    sampleShape: o.inputShape,
    name: 'http',
    events: services.events,
    rng: services.rng.derive('buffer'),
  });
  const journal =
    o.journal !== undefined
      ? new LiveJournal(
          o.journal,
          'http',
          train,
          { length: r.length, numClasses: r.numClasses, task: o.taskField !== undefined, targets: r.targets },
          services,
        )
      : undefined;
  const server = new HttpFeed(o, train, r, services, journal);
  let listening: Promise<AddressInfo> | undefined;
  const feed = {
    start: () => {
      journal?.open().catch((err: unknown) => train.end(err as Error));
      listening = server.listen();
      listening.catch((err: unknown) => train.end(err as Error));
    },
    stop: async () => {
      await server.close();
      await journal?.close();
    },
    ...(journal
      ? { state: (): JournalPosition => journal.state(), restore: (s: unknown): void => journal.restore(s) }
      : {}),
  };
  const source = new LiveDataSource(
    {
      inputShape: o.inputShape,
      ...r.info,
      scenario: 'stream',
    },
    train,
    feed,
  );
  return Object.assign(source, {
    feedServer: server,
    ready: (): Promise<AddressInfo> =>
      listening ?? Promise.reject(new Error('http source not started: subscribe to experiences() first')),
  });
}

/** The `http` dataset component. */
export const httpDescriptor: ComponentDescriptor = {
  role: 'dataset',
  kind: 'http',
  description:
    'A live stream of samples POSTed as JSON or JSON lines to a local HTTP endpoint (127.0.0.1 by default); stream ' +
    'mode. With `journal`, records are fsynced to a journal before the 202 and a resumed run replays those not trained on.',
  options: HttpOptions,
  create: (options, services) => createHttpSource(options as HttpOptions, services),
};
