import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { startRedis } from '@engram/datasets/testing';
import { ModelAnnouncements } from '../serve/model-announcements.js';
import { patience } from '../testing/patience.js';
import { runEngram } from './e2e-harness.js';

const OLD = 'first-Redis-Pass-1';
const NEW = 'rotated-Redis-Pass-2';
const TOTAL = 400;

function record(i: number): string {
  const y = i % 3;
  return JSON.stringify({ x: [y, (i % 5) / 5, 1 - y / 2, (i % 7) / 7], y });
}

/** A live redis-stream run (no end of its own before TOTAL samples), checkpointing every 5 batches. */
function pipeline(): unknown {
  return {
    name: 'redis-auth-change',
    seed: 3,
    backend: 'cpu',
    plugins: ['@engram/datasets', '@engram/strategies'],
    data: {
      kind: 'redis-stream',
      url: '${ENGRAM_TEST_REDIS}',
      stream: 'feed',
      start: '0',
      blockMs: 100,
      inputShape: [4],
      numClasses: 3,
    },
    model: { layers: [{ type: 'dense', units: 8, activation: 'relu' }] },
    optimizer: { type: 'adam', learningRate: 0.01 },
    strategy: { kind: 'naive' },
    training: { batchSize: 20, maxSamples: TOTAL, logEvery: 5 },
    checkpoint: { everyBatches: 5 },
  };
}

/** Changes the default user's password and cuts every other client, as a credential rotation does. */
async function rotate(admin: Redis): Promise<void> {
  await admin.config('SET', 'requirepass', NEW);
  await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
  await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub', 'SKIPME', 'yes');
}

test('a password changed mid-run stops a redis-stream run with one line saying authentication failed; --resume with the new password trains every record exactly once', async () => {
  const server = await startRedis({ password: OLD });
  const work = mkdtempSync(join(tmpdir(), 'engram-redis-rotate-'));
  const admin = new Redis(server.urlAs('', OLD));
  try {
    for (let i = 0; i < TOTAL / 2; i++) await admin.xadd('feed', '*', 'data', record(i));
    const file = join(work, 'pipeline.json');
    writeFileSync(file, JSON.stringify(pipeline()));
    const out = join(work, 'run');
    let rotated: Promise<void> | undefined;
    const first = await runEngram(file, out, [], {
      env: { ...process.env, ENGRAM_TEST_REDIS: server.urlAs('', OLD) },
      // Once the run has trained the first half and waits for more, the password changes under it.
      onLine: (line) => {
        if (rotated === undefined && line.startsWith('{"type":"checkpoint"') && /"step":10\b/.test(line))
          rotated = rotate(admin);
      },
    });
    assert.ok(rotated, `the run reached step 10 before the rotation: ${first.stderr}`);
    await rotated;
    assert.notEqual(first.code, 0, 'the run stopped');
    const errors = first.stderr.split('\n').filter((l) => /^error/.test(l));
    assert.equal(errors.length, 1, first.stderr);
    assert.match(
      errors[0] ?? '',
      /redis-stream feed: lost the connection to Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ and cannot reconnect: authentication failed \(WRONGPASS/,
    );
    const lost = first.stderr.split('\n').filter((l) => /lost|reconnect/i.test(l));
    assert.ok(lost.length <= 2, `no outage loop: ${first.stderr}`);
    assert.ok(!first.stderr.includes(OLD) && !first.stderr.includes('    at '), 'no password, no stack trace');

    // Admin connection: it was spared by SKIPME; the rest of the records arrive meanwhile.
    await admin.auth(NEW);
    for (let i = TOTAL / 2; i < TOTAL; i++) await admin.xadd('feed', '*', 'data', record(i));
    const resumed = await runEngram(file, out, ['--resume'], {
      env: { ...process.env, ENGRAM_TEST_REDIS: server.urlAs('', NEW) },
    });
    assert.equal(resumed.code, 0, resumed.stderr);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { trainSamples: number };
    assert.equal(summary.trainSamples, TOTAL, 'every record trained once, none twice');
    const pending = (await admin.xpending('feed', 'engram')) as [number, ...unknown[]];
    assert.equal(pending[0], 0, 'every trained entry is acknowledged');
    process.stdout.write(`${errors[0]}\n`);
  } finally {
    admin.disconnect();
    await server.dispose();
    rmSync(work, { recursive: true, force: true });
  }
});

test('engram serve --redis: a password changed while following announcements is one warning; following stops, serving goes on', async () => {
  const server = await startRedis({ password: OLD });
  const admin = new Redis(server.urlAs('', OLD));
  const warnings: string[] = [];
  const follow = new ModelAnnouncements(
    { url: server.urlAs('', OLD) },
    'runs:models',
    () => undefined,
    (m) => warnings.push(m),
  );
  try {
    await follow.start();
    await rotate(admin);
    const deadline = Date.now() + patience(10_000);
    while (!warnings.some((w) => /authentication failed/.test(w))) {
      assert.ok(Date.now() < deadline, `no authentication warning: ${warnings.join(' | ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // Long enough for several reconnection attempts at the 50 ms backoff: none is made.
    await new Promise((r) => setTimeout(r, 1000));
    const auth = warnings.filter((w) => /authentication failed/.test(w));
    assert.equal(auth.length, 1, warnings.join(' | '));
    assert.match(
      auth[0] ?? '',
      /cannot reconnect: authentication failed \(WRONGPASS.*announcements are no longer followed/,
    );
    assert.ok(warnings.length <= 2, `one outage line at most besides it: ${warnings.join(' | ')}`);
    assert.ok(!warnings.join('').includes(OLD));
  } finally {
    follow.stop();
    admin.disconnect();
    await server.dispose();
  }
});
