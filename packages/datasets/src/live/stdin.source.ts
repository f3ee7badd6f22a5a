import type { Readable } from 'node:stream';
import { StringEnum, Type, type ComponentDescriptor, type ComponentServices, type Static } from '@engram/core';
import { streamLines } from '../data/line-stream.js';
import { LiveBatchSource } from './live-batch-source.js';
import { LiveDataSource } from './live-data-source.js';
import { LiveBadLines, liveOptions, liveRecordSpec, parseLiveLine, policyOption } from './live-options.js';

/** Options of the `jsonl-stdin` source. */
export const JsonlStdinOptions = Type.Object(
  {
    ...liveOptions,
    policy: policyOption('block'),
    badRows: StringEnum(['skip', 'fail'] as const, { default: 'skip', description: 'Skip bad lines (reported as warnings) or end the stream with an error.' }),
  },
  { additionalProperties: false },
);
export type JsonlStdinOptions = Static<typeof JsonlStdinOptions>;

/**
 * A JSON-lines live stream read from `input` (standard input by default): an endless experience that
 * ends when the input does. With policy `block` the input is paused while the buffer is full.
 * Resume: stdin cannot be replayed; a checkpoint keeps only the count of samples trained on
 * (`state().delivered`), and a resumed run continues with whatever arrives on its own stdin.
 */
export function createJsonlStdin(o: JsonlStdinOptions, services: ComponentServices, input: Readable = process.stdin): LiveDataSource {
  const r = liveRecordSpec(o, 'jsonl-stdin');
  const train = new LiveBatchSource({ capacity: o.buffer, policy: o.policy, sampleShape: o.inputShape, name: 'jsonl-stdin', events: services.events, rng: services.rng.derive('buffer') });
  const bad = new LiveBadLines('jsonl-stdin', services.events);
  let stopped = false;
  const feed = {
    start: () => {
      void (async () => {
        for await (const { text, line } of streamLines(input)) {
          if (stopped) break;
          if (text.trim() === '') continue;
          const row = parseLiveLine(text, r);
          if ('error' in row) {
            if (o.badRows === 'fail') throw new Error(`stdin line ${line}: ${row.error} (badRows policy is "fail")`);
            bad.add(line, row.error);
            continue;
          }
          await train.push({ ...row, cursor: line });
        }
      })().then(
        () => train.end(),
        (err: unknown) => train.end(err instanceof Error ? err : new Error(String(err))),
      );
    },
    stop: async () => {
      stopped = true;
      input.pause();
    },
  };
  return new LiveDataSource({ inputShape: o.inputShape, numClasses: r.numClasses, scenario: 'stream', ...(o.labels ? { classNames: o.labels } : {}) }, train, feed);
}

/** The `jsonl-stdin` dataset component. */
export const jsonlStdinDescriptor: ComponentDescriptor = {
  role: 'dataset',
  kind: 'jsonl-stdin',
  description: 'A live stream of JSON lines on standard input ({"x": [...], "y": label} per line); stream mode.',
  options: JsonlStdinOptions,
  create: (options, services) => createJsonlStdin(options as JsonlStdinOptions, services),
};
