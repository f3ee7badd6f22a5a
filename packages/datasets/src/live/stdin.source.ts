import type { Readable } from 'node:stream';
import { StringEnum, Type, type ComponentDescriptor, type ComponentServices, type Static } from '@engram/core';
import { streamLineChunks, tooLongReason } from '../data/line-stream.js';
import { LiveBatchSource, type Sample } from './live-batch-source.js';
import { LiveDataSource } from './live-data-source.js';
import { journalOption, LiveJournal, type JournalPosition } from './live-journal.js';
import { LiveBadLines, liveOptions, liveRecordSpec, parseLiveLine, policyOption } from './live-options.js';

/** Options of the `jsonl-stdin` source. */
export const JsonlStdinOptions = Type.Object(
  {
    ...liveOptions,
    policy: policyOption('block'),
    badRows: StringEnum(['skip', 'fail'] as const, {
      default: 'skip',
      description: 'Skip bad lines (reported as warnings) or end the stream with an error.',
    }),
    journal: journalOption,
  },
  { additionalProperties: false },
);
export type JsonlStdinOptions = Static<typeof JsonlStdinOptions>;

/**
 * A JSON-lines live stream read from `input` (standard input by default): an endless experience that
 * ends when the input does. With policy `block` the input is paused while the buffer is full.
 *
 * Resume without `journal`: stdin cannot be replayed; a checkpoint keeps only the count of samples
 * trained on (`state().delivered`), and a resumed run continues with whatever arrives on its own stdin.
 * With `journal`, the good records of each chunk read from the input (up to 64 KiB of lines) are
 * appended to the journal and fsynced together, before any of them is queued for the trainer (one
 * fsync per chunk, not per line); checkpoints save the journal position after the last record trained
 * on, and a resumed run first replays the rest of the journal, then reads its own stdin.
 */
export function createJsonlStdin(
  o: JsonlStdinOptions,
  services: ComponentServices,
  input: Readable = process.stdin,
): LiveDataSource {
  const r = liveRecordSpec(o, 'jsonl-stdin');
  const train = new LiveBatchSource({
    capacity: o.buffer,
    policy: o.policy,
    sampleShape: o.inputShape,
    name: 'jsonl-stdin',
    events: services.events,
    rng: services.rng.derive('buffer'),
  });
  const bad = new LiveBadLines('jsonl-stdin', services.events);
  const journal =
    o.journal !== undefined
      ? new LiveJournal(
          o.journal,
          'jsonl-stdin',
          train,
          { length: r.length, numClasses: r.numClasses, task: o.taskField !== undefined, targets: r.targets },
          services,
        )
      : undefined;
  let stopped = false;
  const flush = async (samples: Sample[]): Promise<void> => {
    if (samples.length === 0) return;
    if (journal) await journal.commit(samples);
    else for (const s of samples) await train.push(s);
  };
  const feed = {
    start: () => {
      void (async () => {
        await journal?.open();
        for await (const lines of streamLineChunks(input)) {
          if (stopped) break;
          const samples: Sample[] = [];
          for (const { text, line, tooLong } of lines) {
            if (tooLong === undefined && text.trim() === '') continue;
            const row = tooLong !== undefined ? { error: tooLongReason(tooLong) } : parseLiveLine(text, r);
            if ('error' in row) {
              if (o.badRows === 'fail') {
                await flush(samples);
                throw new Error(`stdin line ${line}: ${row.error} (badRows policy is "fail")`);
              }
              bad.add(line, row.error);
              continue;
            }
            samples.push(journal ? row : { ...row, cursor: line });
          }
          await flush(samples);
        }
      })().then(
        () => {
          bad.final();
          train.end();
        },
        (err: unknown) => {
          if (!stopped) train.end(err instanceof Error ? err : new Error(String(err)));
        },
      );
    },
    stop: async () => {
      stopped = true;
      input.pause();
      await journal?.close();
    },
    ...(journal
      ? { state: (): JournalPosition => journal.state(), restore: (s: unknown): void => journal.restore(s) }
      : {}),
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

/** The `jsonl-stdin` dataset component. */
export const jsonlStdinDescriptor: ComponentDescriptor = {
  role: 'dataset',
  kind: 'jsonl-stdin',
  description:
    'A live stream of JSON lines on standard input ({"x": [...], "y": label} per line); stream mode. With `journal`, ' +
    'lines are fsynced to a journal before training and a resumed run replays those not trained on.',
  options: JsonlStdinOptions,
  create: (options, services) => createJsonlStdin(options as JsonlStdinOptions, services),
};
