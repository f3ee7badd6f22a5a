import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lastValueFrom, map } from 'rxjs';
import { eachItem } from '../stages/each-item.js';
import type { RunItem } from '../plugin-api/run-item.js';
import { PulledFeed } from './pulled-feed.js';

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A feed of `n` run-end items that records how far it was pulled and whether it was closed. */
function counting(n: number): { items: AsyncIterable<RunItem>; pulled: () => number; closed: () => boolean } {
  let pulled = 0;
  let closed = false;
  async function* gen(): AsyncGenerator<RunItem> {
    try {
      for (let seq = 0; seq < n; seq++) {
        pulled++;
        yield { kind: 'run-end', seq };
      }
    } finally {
      closed = true;
    }
  }
  return { items: gen(), pulled: () => pulled, closed: () => closed };
}

test('a feed is pulled one item at a time: the next only after the last stage let the previous one through', async () => {
  const source = counting(30);
  const feed = new PulledFeed(source.items);
  const ahead: number[] = [];
  let done = 0;
  const slow = eachItem(async () => {
    await pause(1);
  });
  const watch = eachItem(() => {
    done++;
    ahead.push(source.pulled() - done);
  });
  await lastValueFrom(feed.items$.pipe(slow, watch, feed.demand()));
  assert.equal(done, 30);
  assert.deepEqual(new Set(ahead), new Set([0]), 'the source was never ahead of the stages');
  assert.ok(source.closed());
});

test('a stage that fails ends the run with its error and closes the feed', async () => {
  const source = counting(100);
  const feed = new PulledFeed(source.items);
  const failing = eachItem((item) => {
    if (item.seq === 5) throw new Error('stage broke at 5');
  });
  await assert.rejects(lastValueFrom(feed.items$.pipe(failing, feed.demand())), /stage broke at 5/);
  await pause(5);
  assert.equal(source.pulled(), 6);
  assert.ok(source.closed(), 'the feed generator ran its finally');
});

test('a stage that emits a copy of an item (same seq) keeps the feed moving', async () => {
  const source = counting(10);
  const feed = new PulledFeed(source.items);
  let seen = 0;
  await lastValueFrom(
    feed.items$.pipe(
      map((item) => ({ ...item })),
      eachItem(() => {
        seen++;
      }),
      feed.demand(),
    ),
  );
  assert.equal(seen, 10);
});
