import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Batch, BatchSource } from '@engram/core';
import { experiencesOf, tempDir, testServices } from '../testing/support.js';
import { createHttpSource } from './http.source.js';
import type { LiveDataSource } from './live-data-source.js';
import { createJsonlStdin } from './stdin.source.js';

const live = { inputShape: [2], numClasses: 3, featuresField: 'x', labelField: 'y', buffer: 64 };
const httpOptions = {
  ...live,
  host: '127.0.0.1',
  port: 0,
  maxBodyBytes: 100_000,
  policy: 'drop-oldest' as const,
  journal: 'in.journal',
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Saved = { delivered: number; feed: { offset: number; line: number } };

/** POSTs `body`; resolves with the status and whatever the journal holds at the moment the answer arrives. */
function post(
  address: AddressInfo,
  body: string,
  journal: string,
): Promise<{ status: number; journalAtAnswer: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address.address, port: address.port, method: 'POST', path: '/' }, (res) => {
      const journalAtAnswer = existsSync(journal) ? readFileSync(journal, 'utf8') : '';
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, journalAtAnswer }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Reads `count` samples from an endless source and returns the first feature of each; the pass stays suspended. */
async function firstFeatures(source: LiveDataSource, count: number, batchSize: number): Promise<number[]> {
  const [exp] = await experiencesOf(source);
  const it = (exp?.train as BatchSource)
    .batches({ batchSize, shuffle: false, epoch: 0, seed: 0 })
    [Symbol.asyncIterator]();
  const out: number[] = [];
  while (out.length < count) {
    const b = (await it.next()).value as Batch;
    for (let i = 0; i < b.y.length; i++) out.push(b.x[i * 2] as number);
  }
  return out;
}

/** Sources opened by the current test, closed after it even when an assertion failed (a listening server would keep the runner alive). */
const opened: LiveDataSource[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});
const track = <T extends LiveDataSource>(s: T): T => {
  opened.push(s);
  return s;
};

const record = (i: number): string => `{"x":[${i},${i / 10}],"y":${i % 3}}`;

test(
  'an http source with a journal answers 202 only once the records are in the journal, and a restored source ' +
    'replays the untrained ones first, in order, then new posts',
  async () => {
    const { dir, cleanup } = tempDir();
    const journal = join(dir, 'in.journal');
    try {
      const a = track(createHttpSource(httpOptions, testServices(1, dir)));
      await experiencesOf(a);
      const address = await a.ready();
      for (let req = 0; req < 4; req++) {
        const body = `[${Array.from({ length: 5 }, (_, k) => record(req * 5 + k)).join(',')}]`;
        const answer = await post(address, body, journal);
        assert.equal(answer.status, 202);
        assert.equal(
          answer.journalAtAnswer.split('\n').length - 1,
          (req + 1) * 5,
          'the records of the request are journalled before the answer',
        );
      }
      assert.deepEqual(readFileSync(journal, 'utf8').split('\n')[7], '{"x":[7,0.699999988079071],"y":1}');
      assert.deepEqual(await firstFeatures(a, 8, 4), [0, 1, 2, 3, 4, 5, 6, 7]);
      const saved = JSON.parse(JSON.stringify(a.state())) as Saved;
      await a.close(); // 12 acknowledged records were never trained on
      const lines = readFileSync(journal, 'utf8').split('\n');
      assert.deepEqual(saved, {
        delivered: 8,
        feed: { offset: lines.slice(0, 8).reduce((s, l) => s + l.length + 1, 0), line: 8 },
      });

      const b = track(createHttpSource(httpOptions, testServices(1, dir)));
      b.restore(saved);
      await experiencesOf(b);
      const again = await b.ready();
      const more = await post(again, `${record(20)}\n${record(21)}\n`, journal);
      assert.equal(more.status, 202);
      assert.deepEqual(
        await firstFeatures(b, 14, 7),
        Array.from({ length: 14 }, (_, i) => 8 + i),
      );
      assert.deepEqual(b.state(), { delivered: 22, feed: { offset: readFileSync(journal).length, line: 22 } });
      await b.close();
    } finally {
      cleanup();
    }
  },
);

test('a journal ending in a torn line is truncated at its last complete line on resume, with a warning', async () => {
  const { dir, cleanup } = tempDir();
  const journal = join(dir, 'in.journal');
  try {
    writeFileSync(journal, `${[0, 1, 2].map(record).join('\n')}\n`);
    assert.equal(readFileSync(journal).length, 58);
    // a crash in the middle of appending record 3
    appendFileSync(journal, '{"x":[3,0.');
    const services = testServices(1, dir);
    const b = track(createHttpSource(httpOptions, services));
    b.restore({ delivered: 1, feed: { offset: record(0).length + 1, line: 1 } });
    assert.deepEqual(await firstFeatures(b, 2, 2), [1, 2]);
    await post(await b.ready(), record(3), journal); // a commit waits for the replay (and truncation)
    assert.ok(
      services.emitted.some(
        (e) =>
          e.type === 'warning' &&
          /ended in a torn line \(10 bytes, a crash mid-write\); truncated it at byte 58/.test(e.message),
      ),
    );
    assert.equal(
      readFileSync(journal, 'utf8'),
      `${[0, 1, 2].map(record).join('\n')}\n${JSON.stringify({ x: [3, Math.fround(0.3)], y: 0 })}\n`,
    );
    await b.close();
  } finally {
    cleanup();
  }
});

test('a journalled source refuses a malformed position, a journal shorter than the position, and a position inside a line', () => {
  const { dir, cleanup } = tempDir();
  try {
    const source = (): LiveDataSource => track(createHttpSource(httpOptions, testServices(1, dir)));
    assert.throws(
      () => source().restore({ delivered: 1, feed: 7 }),
      /http journal .*in\.journal: a checkpoint position must be \{ offset, line \}/,
    );
    assert.throws(
      () => source().restore({ delivered: 1, feed: { offset: 10, line: 1 } }),
      /is missing, shorter than the checkpoint's position 10/,
    );
    writeFileSync(join(dir, 'in.journal'), `${record(0)}\n${record(1)}\n`);
    assert.throws(
      () => source().restore({ delivered: 1, feed: { offset: 1000, line: 1 } }),
      /is 38 bytes, shorter than the checkpoint's position 1000/,
    );
    assert.throws(
      () => source().restore({ delivered: 1, feed: { offset: 5, line: 1 } }),
      /position 5 is not at the start of a line/,
    );
    source().restore({ delivered: 1, feed: { offset: record(0).length + 1, line: 1 } });
  } finally {
    cleanup();
  }
});

test('a run without a restored position moves an earlier journal to .prev and starts a new one', async () => {
  const { dir, cleanup } = tempDir();
  const journal = join(dir, 'in.journal');
  try {
    writeFileSync(journal, `${record(0)}\n`);
    const services = testServices(1, dir);
    const a = track(createHttpSource(httpOptions, services));
    await experiencesOf(a);
    await post(await a.ready(), record(5), journal);
    assert.deepEqual(await firstFeatures(a, 1, 4), [5]);
    await a.close();
    assert.equal(readFileSync(`${journal}.prev`, 'utf8'), `${record(0)}\n`);
    assert.equal(readFileSync(journal, 'utf8'), '{"x":[5,0.5],"y":2}\n');
    assert.ok(
      services.emitted.some(
        (e) =>
          e.type === 'warning' &&
          /from an earlier run \(not resumed\); moved it to .*in\.journal\.prev/.test(e.message),
      ),
    );
  } finally {
    cleanup();
  }
});

test('a replayed backlog larger than the buffer is not dropped by a drop-oldest policy', async () => {
  const { dir, cleanup } = tempDir();
  try {
    writeFileSync(join(dir, 'in.journal'), `${Array.from({ length: 40 }, (_, i) => record(i)).join('\n')}\n`);
    const services = testServices(1, dir);
    const b = track(createHttpSource({ ...httpOptions, buffer: 4 }, services));
    b.restore({ delivered: 0, feed: { offset: 0, line: 0 } });
    assert.deepEqual(
      await firstFeatures(b, 40, 8),
      Array.from({ length: 40 }, (_, i) => i),
    );
    assert.equal(b.train.queue.dropped, 0);
    await b.close();
  } finally {
    cleanup();
  }
});

test(
  'jsonl-stdin with a journal fsyncs each chunk before queueing it, and a restored source replays the untrained ' +
    'lines before reading its new input',
  async () => {
    const { dir, cleanup } = tempDir();
    const journal = join(dir, 'in.journal');
    const options = { ...live, policy: 'block' as const, badRows: 'skip' as const, journal: 'in.journal' };
    try {
      const input = new PassThrough();
      const a = track(createJsonlStdin(options, testServices(1, dir), input));
      input.write(`${Array.from({ length: 6 }, (_, i) => record(i)).join('\n')}\ngarbage\n`);
      input.write(`${record(6)}\n${record(7)}\n${record(8)}\n{"x":[9,`);
      assert.deepEqual(await firstFeatures(a, 4, 4), [0, 1, 2, 3]);
      await sleep(20);
      assert.equal(
        readFileSync(journal, 'utf8').split('\n').length - 1,
        9,
        'good complete lines are journalled, the bad and the partial one are not',
      );
      const saved = JSON.parse(JSON.stringify(a.state())) as Saved;
      assert.deepEqual(saved.feed.line, 4);
      await a.close();

      const next = new PassThrough();
      const b = track(createJsonlStdin(options, testServices(1, dir), next));
      b.restore(saved);
      next.end(`${record(20)}\n${record(21)}`);
      const [exp] = await experiencesOf(b);
      const seen: number[] = [];
      for await (const batch of (exp?.train as BatchSource).batches({
        batchSize: 3,
        shuffle: false,
        epoch: 0,
        seed: 0,
      })) {
        for (let i = 0; i < batch.y.length; i++) seen.push(batch.x[i * 2] as number);
      }
      assert.deepEqual(seen, [4, 5, 6, 7, 8, 20, 21]);
      assert.deepEqual(b.state(), { delivered: 4 + 7, feed: { offset: readFileSync(journal).length, line: 11 } });
      await b.close();
    } finally {
      cleanup();
    }
  },
);

test('a journal in a missing folder gets the folder created; a folder two levels missing fails in one line naming it', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const a = track(createHttpSource({ ...httpOptions, journal: 'new/in.journal' }, testServices(1, dir)));
    await experiencesOf(a);
    const answer = await post(await a.ready(), record(4), join(dir, 'new', 'in.journal'));
    assert.equal(answer.status, 202);
    assert.equal(answer.journalAtAnswer, '{"x":[4,0.4000000059604645],"y":1}\n');
    await a.close();
    const b = track(createHttpSource({ ...httpOptions, journal: 'no/such/in.journal' }, testServices(1, dir)));
    await experiencesOf(b);
    await b.ready();
    await assert.rejects(
      firstFeatures(b, 1, 1),
      (e: Error) =>
        e.message ===
        `http: cannot create the journal's folder ${join(dir, 'no', 'such')}: ENOENT (its parent folder does not exist either)`,
    );
  } finally {
    cleanup();
  }
});
