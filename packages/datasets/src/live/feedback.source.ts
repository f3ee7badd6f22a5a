import { Type, type ComponentDescriptor, type ComponentServices, type Static } from '@engram/core';
import { closeFeedbackChannel, openFeedbackChannel, type FeedbackChannel } from './feedback-channel.js';
import { LiveBatchSource } from './live-batch-source.js';
import { LiveDataSource } from './live-data-source.js';
import { liveOptions, liveRecordSpec, policyOption } from './live-options.js';

const { inputShape, numClasses, labels, buffer } = liveOptions;
const targetCount = Type.Optional(
  Type.Integer({
    minimum: 1,
    description:
      'Regression feedback: targets per record. POST /feedback then takes {id, target} (a number, or an array of ' +
      'this many) for a prediction of a task "regression" run, scored by its absolute error; numClasses/labels are not given.',
  }),
);

/** Options of the `feedback` source. */
export const FeedbackOptions = Type.Object(
  {
    inputShape,
    numClasses,
    labels,
    targetCount,
    buffer,
    policy: policyOption('drop-oldest'),
    channel: Type.String({
      minLength: 1,
      default: 'default',
      description: 'Channel name the model server pushes into (its serve.feedback.channel).',
    }),
  },
  { additionalProperties: false },
);
export type FeedbackOptions = Static<typeof FeedbackOptions>;

/**
 * Builds the `feedback` live source: the delayed-label loop of `engram run --serve`. Each `POST
 * /feedback {id, y}` turns the inputs of an earlier prediction into a labelled record of this stream
 * (through the in-process {@link FeedbackChannel} named `channel`), which is then tested
 * prequentially and trained on like any live record. The channel opens when the stream starts and
 * closes with the source. Records cannot be replayed: a checkpoint keeps only the count trained on,
 * and feedback buffered but not yet trained when the process dies is lost (as for `http` without a journal).
 */
export function createFeedbackSource(
  o: FeedbackOptions,
  services: ComponentServices,
): LiveDataSource & { channel: () => FeedbackChannel | undefined } {
  const regression = o.targetCount !== undefined ? { targetField: 't' } : {};
  const r = liveRecordSpec({ ...o, featuresField: 'x', labelField: 'y', ...regression }, 'feedback');
  const train = new LiveBatchSource({
    capacity: o.buffer,
    policy: o.policy,
    sampleShape: o.inputShape,
    name: 'feedback',
    events: services.events,
    rng: services.rng.derive('buffer'),
  });
  let channel: FeedbackChannel | undefined;
  const feed = {
    start: () => {
      try {
        channel = openFeedbackChannel(o.channel, train, {
          length: r.length,
          numClasses: r.numClasses,
          ...(o.labels ? { labels: o.labels } : {}),
          targets: r.targets,
        });
      } catch (e) {
        train.end(e as Error);
      }
    },
    stop: async () => {
      if (channel) closeFeedbackChannel(channel);
      channel = undefined;
    },
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
  return Object.assign(source, { channel: () => channel });
}

/** The `feedback` dataset component. */
export const feedbackDescriptor: ComponentDescriptor = {
  role: 'dataset',
  kind: 'feedback',
  description:
    'A live stream of labelled predictions: with `engram run --serve`, POST /feedback {id, y} (or {id, target} with ' +
    "targetCount, task regression) turns an earlier prediction's inputs into a training record (the delayed-label loop); stream mode.",
  options: FeedbackOptions,
  create: (options, services) => createFeedbackSource(options as FeedbackOptions, services),
};
