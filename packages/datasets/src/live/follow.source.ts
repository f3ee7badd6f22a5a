import { open, stat, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { Type, type ComponentDescriptor, type ComponentServices, type Static } from '@engram/core';
import { LiveBatchSource } from './live-batch-source.js';
import { LiveDataSource } from './live-data-source.js';
import { MAX_LIVE_LINE } from './record-check.js';
import { LiveBadLines, liveOptions, liveRecordSpec, parseLiveLine, policyOption } from './live-options.js';

/** Options of the `jsonl-follow` source. */
export const JsonlFollowOptions = Type.Object(
  {
    ...liveOptions,
    path: Type.String({
      minLength: 1,
      description: 'The JSON-lines file to follow (relative to the pipeline file); it may not exist yet.',
    }),
    fromStart: Type.Boolean({
      default: true,
      description: 'Read the lines already in the file first (false: only lines appended after the start).',
    }),
    pollMs: Type.Integer({
      minimum: 10,
      default: 200,
      description: 'How often to look for new data at the end of the file.',
    }),
    policy: policyOption('block'),
  },
  { additionalProperties: false },
);
export type JsonlFollowOptions = Static<typeof JsonlFollowOptions>;

/** Where a follower resumes: the byte offset of the first line not trained on, and the lines before it. */
interface FollowPosition {
  readonly offset: number;
  readonly line: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Follows a JSON-lines file like `tail -f`: reads what is there, then polls for appended data; only
 * complete lines (ending in a newline) are parsed. A file that shrinks (truncated or rotated) is re-read
 * from the start. While it reads a backlog, batches wait to be full (reproducible); at the end of the
 * file a batch takes what has arrived.
 *
 * Checkpoints: every queued record carries the byte offset and number of the line after it, and
 * `state()` is `{ offset, line }` for the last record the trainer pulled, i.e. the start of the first
 * line NOT yet trained on (records still in the buffer are not lost). `restore()` seeks there before
 * the feed starts, and bad lines keep being reported by their number in the whole file.
 */
export function createJsonlFollow(o: JsonlFollowOptions, services: ComponentServices): LiveDataSource {
  const r = liveRecordSpec(o, 'jsonl-follow');
  const file = resolve(services.baseDir, o.path);
  const train = new LiveBatchSource({
    capacity: o.buffer,
    policy: o.policy,
    sampleShape: o.inputShape,
    name: 'jsonl-follow',
    events: services.events,
    rng: services.rng.derive('buffer'),
  });
  const bad = new LiveBadLines(`jsonl-follow ${file}`, services.events);
  let stopped = false;
  let startAt: FollowPosition | undefined;
  let handle: FileHandle | undefined;

  const follow = async (): Promise<void> => {
    let position =
      startAt?.offset ??
      (o.fromStart
        ? 0
        : await stat(file).then(
            (s) => s.size,
            () => 0,
          ));
    let carry = '';
    let carryStart = position;
    // bytes of a line over the length limit already dropped (its record is bad; the line is skipped when it ends)
    let droppedBytes = 0;
    let decoder = new StringDecoder('utf8');
    // Numbers of lines before the start are unknown when following only what is appended.
    let lineNo = startAt?.line ?? 0;
    const buf = Buffer.alloc(64 * 1024);
    while (!stopped) {
      if (!handle) {
        handle = await open(file, 'r').catch(() => undefined);
        if (!handle) {
          train.caughtUp = true;
          await sleep(o.pollMs);
          continue;
        }
      }
      const size = (await handle.stat()).size;
      if (size < position) {
        position = 0;
        lineNo = 0;
        carry = '';
        carryStart = 0;
        droppedBytes = 0;
        decoder = new StringDecoder('utf8');
      }
      const { bytesRead } = await handle.read(buf, 0, buf.length, position);
      if (bytesRead === 0) {
        train.caughtUp = true;
        await sleep(o.pollMs);
        continue;
      }
      train.caughtUp = false;
      position += bytesRead;
      carry += decoder.write(buf.subarray(0, bytesRead));
      let nl = carry.indexOf('\n');
      while (nl >= 0 && !stopped) {
        const text = carry.slice(0, nl);
        carryStart += droppedBytes + Buffer.byteLength(text, 'utf8') + 1;
        carry = carry.slice(nl + 1);
        lineNo++;
        if (droppedBytes > 0 || text.length > MAX_LIVE_LINE) {
          bad.add(lineNo, `line is longer than ${MAX_LIVE_LINE} characters`);
          droppedBytes = 0;
        } else if (text.trim() !== '') {
          const row = parseLiveLine(text.endsWith('\r') ? text.slice(0, -1) : text, r);
          if ('error' in row) bad.add(lineNo, row.error);
          else await train.push({ ...row, cursor: { offset: carryStart, line: lineNo } satisfies FollowPosition });
        }
        nl = carry.indexOf('\n');
      }
      if (carry.length > MAX_LIVE_LINE) {
        droppedBytes += Buffer.byteLength(carry, 'utf8');
        carry = '';
      }
    }
  };

  train.caughtUp = false;
  const feed = {
    start: () => {
      follow().catch((err: unknown) => {
        if (!stopped) train.end(new Error(`jsonl-follow ${file}: ${(err as Error).message}`));
      });
    },
    stop: async () => {
      stopped = true;
      await handle?.close().catch(() => undefined);
      handle = undefined;
    },
    state: () => train.cursor ?? startAt ?? null,
    restore: (s: unknown) => {
      const p = s as Partial<FollowPosition> | null;
      const whole = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
      if (!p || typeof p !== 'object' || !whole(p.offset) || !whole(p.line)) {
        throw new Error(
          `jsonl-follow ${file}: a checkpoint position must be { offset, line } (byte offset, line number), got ${JSON.stringify(s)}`,
        );
      }
      startAt = { offset: p.offset, line: p.line };
    },
  };
  return new LiveDataSource(
    {
      inputShape: o.inputShape,
      ...r.info,
      scenario: 'stream',
    },
    train,
    feed,
  );
}

/** The `jsonl-follow` dataset component. */
export const jsonlFollowDescriptor: ComponentDescriptor = {
  role: 'dataset',
  kind: 'jsonl-follow',
  description: 'Follows a growing JSON-lines file (like tail -f) as a live stream; stream mode.',
  options: JsonlFollowOptions,
  create: (options, services) => createJsonlFollow(options as JsonlFollowOptions, services),
};
