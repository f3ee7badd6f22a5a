import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Batch } from '@engram/core';
import { experiencesOf, testServices } from '../testing/support.js';
import { feedbackChannel, feedbackChannelChanges } from './feedback-channel.js';
import { createFeedbackSource } from './feedback.source.js';

const options = { inputShape: [2], numClasses: 3, buffer: 4, policy: 'drop-oldest' as const, channel: 'unit' };

test('a feedback source opens its channel when its stream starts, trains on what is pushed through it, and closes it', async () => {
  const source = createFeedbackSource(options, testServices());
  assert.equal(feedbackChannel('unit'), undefined, 'not open before the stream starts');
  const before = feedbackChannelChanges();
  const [experience] = await experiencesOf(source);
  const channel = feedbackChannel('unit');
  assert.ok(channel);
  assert.equal(feedbackChannelChanges(), before + 1, 'opening counts as a change');
  assert.equal(channel.length, 2);
  assert.equal(channel.numClasses, 3);
  await channel.push({ x: new Float32Array([1, 2]), y: 2 });
  await channel.push({ x: new Float32Array([3, 4]), y: 0 });
  assert.equal(channel.depth(), 2);
  const ac = new AbortController();
  let batch: Batch | undefined;
  for await (const b of (experience?.train as NonNullable<typeof experience>['train']).batches({
    batchSize: 8,
    shuffle: false,
    epoch: 0,
    seed: 0,
    signal: ac.signal,
  })) {
    batch = b;
    break;
  }
  assert.deepEqual(Array.from(batch?.x ?? []), [1, 2, 3, 4]);
  assert.deepEqual(Array.from(batch?.y ?? []), [2, 0]);
  assert.equal(channel.depth(), 0);
  const queued = feedbackChannelChanges();
  await source.close();
  assert.equal(feedbackChannel('unit'), undefined, 'closed with the source');
  assert.equal(queued, before + 1, 'pushes and pulls are not changes');
  assert.equal(feedbackChannelChanges(), before + 2, 'closing counts as a change');
});

test("two open feedback sources cannot share a channel name: the second one's stream fails with a one-line reason", async () => {
  const a = createFeedbackSource(options, testServices());
  const b = createFeedbackSource(options, testServices());
  await experiencesOf(a);
  const [exp] = await experiencesOf(b);
  const ac = new AbortController();
  await assert.rejects(async () => {
    for await (const _ of (exp as NonNullable<typeof exp>).train.batches({
      batchSize: 1,
      shuffle: false,
      epoch: 0,
      seed: 0,
      signal: ac.signal,
    }))
      break;
  }, /feedback channel "unit" is already open/);
  await b.close();
  assert.ok(feedbackChannel('unit'), 'the first source keeps its channel');
  await a.close();
  assert.equal(feedbackChannel('unit'), undefined);
});

test('a feedback channel refuses records that are not finite in float32, of the wrong length or with a bad label, and queues nothing', async () => {
  const source = createFeedbackSource({ ...options, channel: 'poison' }, testServices());
  await experiencesOf(source);
  const channel = feedbackChannel('poison');
  assert.ok(channel);
  await assert.rejects(channel.push({ x: new Float32Array([1e39, 0]), y: 1 }), /feature 0 .* not a finite float32/);
  await assert.rejects(channel.push({ x: new Float32Array([0, Number.NaN]), y: 1 }), /feature 1 .* not a finite/);
  await assert.rejects(channel.push({ x: new Float32Array([0, 1, 2]), y: 1 }), /needs 2 float32 features, got 3/);
  await assert.rejects(channel.push({ x: new Float32Array([0, 1]), y: 3 }), /label 3 is not a class index below 3/);
  await assert.rejects(channel.push({ x: new Float32Array([0, 1]), y: 0.5 }), /label 0.5/);
  assert.equal(channel.depth(), 0);
  await channel.push({ x: new Float32Array([3.4e38, -3.4e38]), y: 2 });
  assert.equal(channel.depth(), 1);
  await source.close();
});
