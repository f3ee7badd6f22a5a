import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { connect, type AddressInfo } from 'node:net';
import type { Batch, BatchSource, DataSource } from '@engram/core';
import { build, experiencesOf, tempDir, testServices } from '../testing/support.js';
import { gc } from '../testing/gc.js';
import { syntheticDescriptor } from '../sources/synthetic.source.js';
import { createJsonlFollow } from './follow.source.js';
import { createHttpSource } from './http.source.js';
import { createJsonlStdin } from './stdin.source.js';

const live = { inputShape: [2], numClasses: 3, featuresField: 'x', labelField: 'y', buffer: 16 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Pulls `count` samples (or until the stream ends) from an endless source; keeps the batches unless `onBatch` consumes them. */
async function take(
  source: BatchSource,
  count: number,
  batchSize = 8,
  onBatch?: (b: Batch) => Promise<void>,
): Promise<Batch[]> {
  const out: Batch[] = [];
  let n = 0;
  const ac = new AbortController();
  for await (const b of source.batches({ batchSize, shuffle: true, epoch: 0, seed: 0, signal: ac.signal })) {
    n += b.y.length;
    if (onBatch) await onBatch(b);
    else out.push(b);
    if (n >= count) {
      ac.abort();
      break;
    }
  }
  return out;
}

test('jsonl-stdin with policy block delivers every line in order while the buffer never exceeds its capacity', async () => {
  const input = new PassThrough();
  const services = testServices();
  const source = createJsonlStdin({ ...live, policy: 'block', badRows: 'skip' }, services, input);
  assert.equal((await source.describe()).experiences, 'endless');
  const [exp] = await experiencesOf(source);
  const total = 2000;
  void (async () => {
    for (let i = 0; i < total; i++) {
      if (i === 5) input.write('garbage\n');
      if (!input.write(`{"x":[${i},${-i}],"y":${i % 3}}\n`))
        await new Promise<void>((r) => input.once('drain', () => r()));
    }
    input.end();
  })();
  let maxBuffered = 0;
  const seen: number[] = [];
  for await (const b of exp?.train.batches({ batchSize: 8, shuffle: false, epoch: 0, seed: 0 }) ?? []) {
    maxBuffered = Math.max(maxBuffered, source.train.queue.length);
    for (let i = 0; i < b.y.length; i++) seen.push(b.x[i * 2] as number);
    if (seen.length % 200 === 0) await sleep(1);
  }
  assert.equal(seen.length, total);
  assert.deepEqual(seen.slice(0, 10), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.ok(maxBuffered <= 16, `buffered ${maxBuffered}`);
  assert.equal(source.train.queue.dropped, 0);
  assert.ok(services.emitted.some((e) => e.type === 'warning' && /bad line 6/.test(e.message)));
  await source.close();
});

test('a synthetic producer outrunning training keeps RSS bounded and reports dropped samples', async () => {
  const services = testServices(3);
  const options = {
    numClasses: 4,
    features: 784,
    samplesPerClass: 10,
    separation: 4,
    spread: 1,
    testFraction: 0.2,
    scenario: { type: 'class-incremental', classesPerExperience: 2 },
    endless: true,
    drift: 'gradual',
    driftEvery: 1000,
    driftMagnitude: 1,
    buffer: 256,
    policy: 'drop-oldest',
  };
  const source = build<DataSource & { close(): Promise<void> }>(syntheticDescriptor, options, services);
  assert.deepEqual((await source.describe()).inputShape, [784]);
  const [exp] = await experiencesOf(source);
  // Dead ArrayBuffers are released after the collection that finds them, on a later turn: collect,
  // let the event loop turn, collect again, then read.
  const liveBytes = async (): Promise<number> => {
    gc();
    await new Promise((r) => setImmediate(r));
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const before = process.memoryUsage().rss;
  const liveBefore = await liveBytes();
  let peak = before;
  const live: number[] = [];
  let batches = 0;
  await take(exp?.train as BatchSource, 32 * 150, 32, async () => {
    batches++;
    await sleep(2); // a slow trainer
    peak = Math.max(peak, process.memoryUsage().rss);
    if (batches % 25 === 0) live.push((await liveBytes()) - liveBefore);
  });
  await source.close();
  const dropped = services.emitted.filter((e) => e.type === 'dropped');
  const total = dropped.reduce((s, e) => s + (e.type === 'dropped' ? e.count : 0), 0);
  // Kept in memory, the dropped samples alone would take total * 784 * 4 bytes (> 60 MB).
  assert.ok(total > 20_000, `the producer outran training (${total} dropped)`);
  const last = dropped[dropped.length - 1];
  assert.equal(last?.type === 'dropped' ? last.total : -1, total);
  const growthMb = (peak - before) / 1024 / 1024;
  const liveMb = Math.max(...live) / 1024 / 1024;
  const keptMb = (total * 784 * 4) / 1024 / 1024;
  console.log(
    `# dropped ${total} (${keptMb.toFixed(0)} MB if kept); RSS peak growth ${growthMb.toFixed(1)} MB; live memory ` +
      `growth ${liveMb.toFixed(1)} MB`,
  );
  // The buffer holds 256 samples (0.8 MB); garbage of dropped samples may lift RSS for a while, but never to what keeping them would cost.
  assert.ok(live.length >= 4, 'live memory was sampled during the run');
  assert.ok(liveMb < 8, `live memory grew ${liveMb.toFixed(1)} MB`);
  assert.ok(
    growthMb < keptMb / 2,
    `RSS grew ${growthMb.toFixed(1)} MB, keeping the samples would take ${keptMb.toFixed(0)} MB`,
  );
});

test('jsonl-follow picks up appended lines, waits for a partial line to complete, and skips bad lines', async () => {
  const { dir, cleanup } = tempDir();
  const file = join(dir, 'feed.jsonl');
  writeFileSync(file, '{"x":[1,1],"y":0}\n{"x":[2,2],"y":1}\n');
  const services = testServices(1, dir);
  const source = createJsonlFollow(
    { ...live, path: 'feed.jsonl', fromStart: true, pollMs: 20, policy: 'block' },
    services,
  );
  try {
    const [exp] = await experiencesOf(source);
    const it = (exp?.train as BatchSource)
      .batches({ batchSize: 8, shuffle: false, epoch: 0, seed: 0 })
      [Symbol.asyncIterator]();
    const firsts: number[] = [];
    while (firsts.length < 2) {
      const b = (await it.next()).value as Batch;
      for (let i = 0; i < b.y.length; i++) firsts.push(b.x[i * 2] as number);
    }
    assert.deepEqual(firsts, [1, 2]);
    appendFileSync(file, '{"x":[3,3],"y":2}\nnot json\n{"x":[4,');
    const third = (await it.next()).value as Batch;
    assert.deepEqual([...third.x], [3, 3]);
    await sleep(80);
    appendFileSync(file, '4],"y":1}\n');
    const fourth = (await it.next()).value as Batch;
    assert.deepEqual([...fourth.x], [4, 4]);
    assert.ok(services.emitted.some((e) => e.type === 'warning' && /bad line 4/.test(e.message)));
    assert.equal(typeof source.state(), 'object');
  } finally {
    await source.close();
    cleanup();
  }
});

/** POSTs `body` and returns status and parsed JSON answer. */
function post(
  address: AddressInfo,
  body: string | Buffer,
  method = 'POST',
): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: address.address, port: address.port, method, path: '/', headers: { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            json: JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown>,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('the http source accepts JSON and JSON lines, answers 400 with the reason, 413 on oversize, and keeps serving', async () => {
  const services = testServices();
  const source = createHttpSource(
    { ...live, host: '127.0.0.1', port: 0, maxBodyBytes: 200, policy: 'drop-oldest' },
    services,
  );
  try {
    const [exp] = await experiencesOf(source);
    const address = await source.ready();
    assert.equal(address.address, '127.0.0.1');
    const ok = await post(address, '[{"x":[1,2],"y":0},{"x":[3,4],"y":2}]');
    assert.equal(ok.status, 202);
    assert.equal(ok.json['accepted'], 2);
    const lines = await post(address, '{"x":[5,6],"y":1}\n{"x":[7,8],"y":1}\n');
    assert.equal(lines.status, 202);
    const bad = await post(address, '[{"x":[1,2],"y":0},{"x":[1],"y":0}]');
    assert.equal(bad.status, 400);
    assert.match(String(bad.json['error']), /record 1: field "x" has 1 values, expected 2/);
    const unknown = await post(address, '{"x":[1,2],"y":9}');
    assert.equal(unknown.status, 400);
    assert.match(String(unknown.json['error']), /unknown label 9/);
    const garbage = await post(address, '{"x":');
    assert.equal(garbage.status, 400);
    const big = await post(address, Buffer.alloc(5000, 0x20));
    assert.equal(big.status, 413);
    assert.equal((await post(address, '', 'PUT')).status, 405);
    const after = await post(address, '{"x":[9,9],"y":2}');
    assert.equal(after.status, 202);
    const got = await take(exp?.train as BatchSource, 5, 16);
    assert.deepEqual(
      got.flatMap((b) => [...b.y]),
      [0, 2, 1, 1, 2],
    );
    assert.deepEqual([...(got[0]?.x ?? [])].slice(0, 4), [1, 2, 3, 4]);
  } finally {
    await source.close();
  }
});

/** Writes raw bytes to the server and resolves with everything it answered before closing. */
function raw(address: AddressInfo, bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(address.port, address.address, () => socket.write(bytes));
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve(got));
  });
}

test('the http source refuses invalid UTF-8 with its line and byte, and a body longer than its Content-Length with a clean 400, accepting nothing', async () => {
  const source = createHttpSource(
    { ...live, host: '127.0.0.1', port: 0, maxBodyBytes: 2000, policy: 'drop-oldest' },
    testServices(),
  );
  try {
    const [exp] = await experiencesOf(source);
    const address = await source.ready();
    // an ignored extra field holding a byte that is not UTF-8 (0xff), on the second line
    const bad = Buffer.concat([
      Buffer.from('{"x":[1,2],"y":0}\n{"x":[3,4],"y":1,"note":"caf'),
      Buffer.from([0xff]),
      Buffer.from('"}\n'),
    ]);
    const refused = await post(address, bad);
    assert.equal(refused.status, 400);
    assert.equal(refused.json['error'], 'line 2: invalid UTF-8 at byte 46 of the body (records must be UTF-8 JSON)');
    // a valid U+FFFD spelled out in UTF-8 is just a character
    assert.equal((await post(address, '{"x":[1,2],"y":0,"note":"\uFFFD"}')).status, 202);
    const record = '{"x":[5,6],"y":2}';
    const answer = await raw(
      address,
      Buffer.from(
        `POST / HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${record.length}\r\n\r\n${record}${record}\r\n`,
      ),
    );
    assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(answer, /Content-Length \(17\) says: malformed HTTP, nothing was accepted/);
    assert.equal((await post(address, '{"x":[7,8],"y":1}')).status, 202, 'the source keeps serving');
    const got = await take(exp?.train as BatchSource, 2, 16);
    assert.deepEqual(
      got.flatMap((b) => [...b.x]).sort((p, q) => p - q),
      [1, 2, 7, 8],
      'only the two valid requests were accepted',
    );
  } finally {
    await source.close();
  }
});

test('an http source whose port is taken ends its stream with a clear error instead of crashing', async () => {
  const first = createHttpSource(
    { ...live, host: '127.0.0.1', port: 0, maxBodyBytes: 200, policy: 'drop-oldest' },
    testServices(),
  );
  await experiencesOf(first);
  const address = await first.ready();
  const second = createHttpSource(
    { ...live, host: '127.0.0.1', port: address.port, maxBodyBytes: 200, policy: 'drop-oldest' },
    testServices(),
  );
  try {
    const [exp] = await experiencesOf(second);
    await assert.rejects(take(exp?.train as BatchSource, 1), /cannot listen on 127\.0\.0\.1/);
  } finally {
    await first.close();
    await second.close();
  }
});
