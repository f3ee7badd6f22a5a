import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answerPush, RelayedChannels, type PushRequest } from './channel-relay.js';

const STATUS = { name: 'fb', length: 3, numClasses: 4, labels: ['a', 'b', 'c', 'd'], depth: 2, dropped: 0 };

test('a relayed channel exists only under the name the training thread described, with its shape and queue depth', () => {
  const relay = new RelayedChannels(() => undefined);
  assert.equal(relay.channel('fb'), undefined);
  relay.update(STATUS);
  const c = relay.channel('fb');
  assert.ok(c);
  assert.deepEqual([c.length, c.numClasses, c.labels, c.depth(), c.dropped()], [3, 4, ['a', 'b', 'c', 'd'], 2, 0]);
  assert.equal(relay.channel('other'), undefined);
  relay.update(undefined);
  assert.equal(relay.channel('fb'), undefined);
});

test('a relayed push sends the record and resolves with the status the training thread answers, or rejects with its reason', async () => {
  const sent: PushRequest[] = [];
  const relay = new RelayedChannels((r) => sent.push(r));
  relay.update(STATUS);
  const channel = relay.channel('fb');
  assert.ok(channel);
  const first = channel.push({ x: new Float32Array([1, 2, 3]), y: 1 });
  const second = channel.push({ x: new Float32Array([4, 5, 6]), y: 2 });
  assert.deepEqual(
    sent.map((r) => [r.rid, r.channel, Array.from(r.x), r.y]),
    [
      [0, 'fb', [1, 2, 3], 1],
      [1, 'fb', [4, 5, 6], 2],
    ],
  );
  relay.settle({ type: 'pushed', rid: 0, status: { ...STATUS, depth: 3 } });
  await first;
  assert.equal(channel.depth(), 3, 'the answer carries the new queue depth');
  relay.settle({ type: 'push-failed', rid: 1, message: 'closed' });
  await assert.rejects(second, /closed/);
  const third = channel.push({ x: new Float32Array(3), y: 0 });
  relay.abandon('the run has ended');
  await assert.rejects(third, /the run has ended/);
});

test('the training thread answers a push for a channel no feedback source has open with the reason, never a throw', async () => {
  const answer = await answerPush({
    type: 'push',
    rid: 7,
    channel: 'nobody-opened-this',
    x: new Float32Array(2),
    y: 0,
  });
  assert.equal(answer.type, 'push-failed');
  assert.equal(answer.rid, 7);
  assert.match(
    answer.type === 'push-failed' ? answer.message : '',
    /feedback source of channel "nobody-opened-this" has closed/,
  );
});
