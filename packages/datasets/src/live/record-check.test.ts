import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Batch, BatchSource } from '@engram/core';
import { experiencesOf, tempDir, testServices } from '../testing/support.js';
import { createHttpSource } from './http.source.js';
import { createJsonlStdin } from './stdin.source.js';
import { checkRecord, checkRecordLine, MAX_LIVE_LINE } from './record-check.js';

const contract = { inputShape: [2, 2], numClasses: 3 };

test('a record is refused at the door when a value overflows float32, the label is a string or out of range, or the shape is wrong', () => {
  const ok = checkRecord({ x: [1, 2, 3, 3.4e38], y: 2 }, contract);
  assert.ok(typeof ok !== 'string');
  assert.deepEqual(Array.from(ok.x), [1, 2, 3, Math.fround(3.4e38)]);
  assert.equal(ok.y, 2);
  const refused: Array<[unknown, RegExp]> = [
    [{ x: [1e39, 2, 3, 4], y: 0 }, /"x"\[0\] is not a finite float32 number \(1e\+39 overflows float32\)/],
    [{ x: [-1e39, 2, 3, 4], y: 0 }, /overflows float32/],
    [{ x: [1, 2, 3, 4], y: '1' }, /label "1" is not a class index/],
    [{ x: [1, 2, 3, 4], y: 3 }, /unknown label 3 \(numClasses is 3\)/],
    [{ x: [1, 2, 3, 4], y: -1 }, /label -1 is not a class index/],
    [{ x: [1, 2, 3, 4], y: 1.5 }, /label 1.5 is not a class index/],
    [{ x: [1, 2, 3, 4], y: null }, /not a class index/],
    [{ x: [1, 2, 3], y: 0 }, /has 3 values, expected 4 \(inputShape \[2, 2\]\)/],
    [
      {
        x: [
          [1, 2],
          [3, 4],
        ],
        y: 0,
      },
      /has 2 values, expected 4/,
    ],
    [{ x: [1, 2, '3', 4], y: 0 }, /"x"\[2\] is not a number/],
    [{ x: [1, 2, null, 4], y: 0 }, /"x"\[2\] is not a number/],
    [{ y: 0 }, /field "x" is missing/],
    [{ x: [1, 2, 3, 4] }, /field "y" is missing/],
    [[1, 2], /not a JSON object/],
    [JSON.parse('{"__proto__": {"x": [1,2,3,4], "y": 0}}') as unknown, /field "x" is missing/],
  ];
  for (const [value, reason] of refused) {
    const r = checkRecord(value, contract);
    assert.equal(typeof r, 'string', JSON.stringify(value));
    assert.match(r as string, reason);
  }
});

test('named labels must be one of the exact strings, and a task field must be a non-negative integer', () => {
  const named = { inputShape: [1], numClasses: 2, labels: ['cat', 'dog'], task: 't' };
  const r = checkRecord({ x: [0], y: 'dog', t: 4 }, named);
  assert.ok(typeof r !== 'string');
  assert.deepEqual([r.y, r.task], [1, 4]);
  assert.match(checkRecord({ x: [0], y: 1, t: 0 }, named) as string, /unknown label 1/);
  assert.match(checkRecord({ x: [0], y: ' dog', t: 0 }, named) as string, /unknown label/);
  assert.match(checkRecord({ x: [0], y: 'dog', t: -1 }, named) as string, /"t" is not a task index/);
});

test('a line over the length limit is refused without being parsed', () => {
  const long = `{"x":[${'1,'.repeat(MAX_LIVE_LINE / 2)}1],"y":0}`;
  assert.match(checkRecordLine(long, contract) as string, /over the \d+ limit/);
  assert.match(checkRecordLine('{"x":', contract) as string, /invalid JSON/);
});

function post(address: AddressInfo, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address.address, port: address.port, method: 'POST', path: '/' }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const live = { inputShape: [4], numClasses: 2, featuresField: 'x', labelField: 'y', buffer: 64 };

test('the http source answers 400 with the reason for a poisoned record and never journals it', async () => {
  const { dir, cleanup } = tempDir();
  const source = createHttpSource(
    { ...live, host: '127.0.0.1', port: 0, maxBodyBytes: 100_000, policy: 'block', journal: 'in.journal' },
    testServices(1, dir),
  );
  try {
    await experiencesOf(source);
    const address = await source.ready();
    const poisoned = await post(address, '{"x":[1e39,2,3,4],"y":0}');
    assert.equal(poisoned.status, 400);
    assert.match(poisoned.body, /overflows float32/);
    assert.equal((await post(address, '{"x":[1,2,3,4],"y":"1"}')).status, 400);
    assert.equal((await post(address, '{"x":[1,2,3,4],"y":2}')).status, 400);
    assert.equal((await post(address, '{"x":[1,2,3,4],"y":1}')).status, 202);
    const journal = readFileSync(join(dir, 'in.journal'), 'utf8').trim().split('\n');
    assert.deepEqual(journal, ['{"x":[1,2,3,4],"y":1}']);
  } finally {
    await source.close();
    cleanup();
  }
});

test(
  'jsonl-stdin counts poisoned lines as bad, trains on the rest, and a journal line that cannot be replayed is ' +
    'skipped with a warning',
  async () => {
    const { dir, cleanup } = tempDir();
    try {
      const input = new PassThrough();
      const services = testServices(1, dir);
      const source = createJsonlStdin(
        { ...live, policy: 'block', badRows: 'skip', journal: 'j.jsonl' },
        services,
        input,
      );
      const [exp] = await experiencesOf(source);
      input.end(
        [
          '{"x":[1,2,3,4],"y":0}',
          '{"x":[1e39,2,3,4],"y":0}',
          '{"x":[2,2,3,4],"y":"1"}',
          '{"x":[3,2,3,4],"y":5}',
          '{"x":[4,2,3,4],"y":1}',
        ].join('\n'),
      );
      const seen: number[] = [];
      for await (const b of (exp?.train as BatchSource).batches({ batchSize: 2, shuffle: false, epoch: 0, seed: 0 }))
        for (let i = 0; i < b.y.length; i++) seen.push(b.x[i * 4] as number);
      await source.close();
      assert.deepEqual(seen, [1, 4]);
      assert.equal(
        services.emitted.filter((e) => e.type === 'warning' && /skipped bad line/.test(e.message)).length,
        3,
      );
      assert.equal(readFileSync(join(dir, 'j.jsonl'), 'utf8').trim().split('\n').length, 2);

      // A journal damaged by an older version (a null where 1e39 overflowed) replays the rest, counting the bad line.
      writeFileSync(join(dir, 'j.jsonl'), '{"x":[1,2,3,4],"y":0}\n{"x":[null,2,3,4],"y":0}\n{"x":[4,2,3,4],"y":1}\n');
      const again = testServices(1, dir);
      const resumed = createJsonlStdin(
        { ...live, policy: 'block', badRows: 'skip', journal: 'j.jsonl' },
        again,
        new PassThrough(),
      );
      resumed.restore({ delivered: 0, feed: { offset: 0, line: 0 } });
      const [exp2] = await experiencesOf(resumed);
      const it = (exp2?.train as BatchSource)
        .batches({ batchSize: 2, shuffle: false, epoch: 0, seed: 0 })
        [Symbol.asyncIterator]();
      const batch = (await it.next()).value as Batch;
      assert.deepEqual([batch.x[0], batch.x[4]], [1, 4]);
      assert.ok(
        again.emitted.some(
          (e) =>
            e.type === 'warning' &&
            /journal .* skipped bad line 2: field "x"\[1\]|skipped bad line 2: field "x"\[0\] is not a number/.test(
              e.message,
            ),
        ),
      );
      await resumed.close();
    } finally {
      cleanup();
    }
  },
);
