import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type { ServerResponse } from 'node:http';
import type { EngramEvent, EngramEventInput } from '@engram/core';
import { EventFeed } from './event-feed.js';

/** A stand-in response collecting what is written (an SSE client). */
function client(): { res: ServerResponse; text: () => string } {
  const sink = new PassThrough();
  let text = '';
  sink.on('data', (d: Buffer) => (text += d.toString()));
  const res = Object.assign(sink, { writeHead: () => res }) as unknown as ServerResponse;
  return { res, text: () => text };
}

const ev = (e: EngramEventInput): EngramEvent => ({ seq: 0, time: 0, ...e });
const batch = (step: number): EngramEvent =>
  ev({
    type: 'batch-end',
    experience: 0,
    epoch: 0,
    batch: step,
    step,
    size: 1,
    loss: 1,
    penalty: 0,
    accuracy: 0,
    epochLoss: 1,
    epochAccuracy: 0,
    samplesPerSecond: 1,
  });

test("a late SSE client gets run-start, the kept boundaries and only the most recent events: the feed's memory is bounded", async () => {
  const feed = new EventFeed({ history: 3, maxBufferedBytes: 1 << 20 });
  feed.publish(
    ev({
      type: 'run-start',
      name: 'r',
      seed: 0,
      backend: 'cpu',
      mode: 'stream',
      experiences: 'endless',
      scenario: 's',
      strategies: [],
      inputShape: [1],
      numClasses: 2,
      parameters: 1,
    }),
  );
  for (let s = 1; s <= 100; s++) {
    feed.publish(batch(s));
    if (s % 5 === 0) feed.publish(ev({ type: 'boundary', step: s, reason: 'test' }));
  }
  const c = client();
  feed.attach(c.res);
  await new Promise((r) => setImmediate(r));
  const events = [...c.text().matchAll(/^data: (.+)$/gm)].map((m) => JSON.parse(m[1] as string) as EngramEvent);
  assert.equal(events[0]?.type, 'run-start');
  const boundaries = events.filter((e) => e.type === 'boundary').map((e) => (e as { step: number }).step);
  assert.deepEqual(boundaries, [45, 50, 55, 60, 65, 70, 75, 80, 85, 90, 95, 100], 'the last 4 × history boundaries');
  assert.deepEqual(
    events.filter((e) => e.type === 'batch-end').map((e) => (e as { step: number }).step),
    [98, 99, 100],
  );
  feed.publish(batch(101));
  await new Promise((r) => setImmediate(r));
  assert.match(c.text(), /"step":101/);
  feed.close();
  assert.equal(feed.size, 0);
});
