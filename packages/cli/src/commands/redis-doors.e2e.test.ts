import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { makeCertificates, startRedis, type TestCertificates, type TestRedis } from '@engram/datasets/testing';
import { redisTlsOptions } from '@engram/datasets';
import { Queue } from 'bullmq';
import { ModelAnnouncements, type Announcement } from '../serve/model-announcements.js';
import { probeRedis, sweepConnection } from '../sweep/redis-reach.js';
import { runEngram } from './e2e-harness.js';

const PASSWORD = 'hunter2-Redis-Pass';
const USER = { name: 'trainer', password: 'acl-Secret-42' };
const TOTAL = 300;

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** Record `i`: 4 features, 3 classes (deterministic). */
function record(i: number): string {
  const y = i % 3;
  return JSON.stringify({ x: [y, (i % 5) / 5, 1 - y / 2, (i % 7) / 7], y });
}

/** A redis-stream run on `url` (trusting `ca`), stopping after {@link TOTAL} samples, logging events back to Redis. */
function pipeline(url: string, ca: string, loggerUrl: string): unknown {
  return {
    name: 'redis-doors',
    seed: 3,
    backend: 'cpu',
    plugins: ['@engram/datasets', '@engram/strategies'],
    data: { kind: 'redis-stream', url, ca, stream: 'feed', start: '0', blockMs: 100, inputShape: [4], numClasses: 3 },
    loggers: [{ kind: 'redis-stream', url: loggerUrl, ca, stream: 'events' }],
    model: { layers: [{ type: 'dense', units: 8, activation: 'relu' }] },
    optimizer: { type: 'adam', learningRate: 0.01 },
    strategy: { kind: 'naive' },
    training: { batchSize: 20, maxSamples: TOTAL, logEvery: 5 },
    checkpoint: { everyBatches: 5 },
  };
}

describe('Redis AUTH and TLS (real redis-server with --tls-port, --requirepass and an ACL user)', () => {
  let certs: TestCertificates;
  let server: TestRedis;
  let work: string;

  before(async () => {
    certs = makeCertificates();
    server = await startRedis({ tls: certs, password: PASSWORD, user: USER });
    work = mkdtempSync(join(tmpdir(), 'engram-redis-doors-'));
    const producer = new Redis(
      server.urlAs(USER.name, USER.password),
      redisTlsOptions({ url: server.url, ca: certs.ca }),
    );
    try {
      for (let i = 0; i < TOTAL; i++) await producer.xadd('feed', '*', 'data', record(i));
    } finally {
      producer.disconnect();
    }
  });

  after(async () => {
    await server.dispose();
    certs.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  it('a stream run trains on every record through TLS with an ACL user, and no file of its folder holds a password', async () => {
    const file = join(work, 'tls.pipeline.json');
    writeFileSync(file, JSON.stringify(pipeline('${ENGRAM_TEST_REDIS}', 'certs/ca.crt', server.urlAs('', PASSWORD))));
    // The CA path is relative to the pipeline's folder.
    mkdirSync(join(work, 'certs'));
    copyFileSync(certs.ca, join(work, 'certs', 'ca.crt'));
    const out = join(work, 'tls-run');
    const exit = await runEngram(file, out, [], {
      env: { ...process.env, ENGRAM_TEST_REDIS: server.urlAs(USER.name, USER.password) },
    });
    assert.equal(exit.code, 0, exit.stderr);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { trainSamples: number };
    assert.equal(summary.trainSamples, TOTAL);
    const reader = new Redis(server.urlAs('', PASSWORD), redisTlsOptions({ url: server.url, ca: certs.ca }));
    try {
      assert.ok((await reader.xlen('events')) > 10, 'the logger wrote the run events through TLS + AUTH');
      const pending = (await reader.xpending('feed', 'engram')) as [number, ...unknown[]];
      assert.equal(pending[0], 0, 'every trained entry is acknowledged');
    } finally {
      reader.disconnect();
    }
    for (const f of filesUnder(out)) {
      const text = readFileSync(f).toString('latin1');
      assert.ok(!text.includes(PASSWORD), `${f} holds the Redis password`);
      assert.ok(!text.includes(USER.password), `${f} holds the ACL password`);
    }
    assert.ok(!exit.stderr.includes(PASSWORD) && !exit.stderr.includes(USER.password));
  });

  it('a wrong password stops the run at once with one line naming the server, without the password', async () => {
    const file = join(work, 'wrong.pipeline.json');
    writeFileSync(file, JSON.stringify(pipeline('${ENGRAM_TEST_REDIS}', certs.ca, server.urlAs('', PASSWORD))));
    const wrong = 'not-the-Password-9';
    const exit = await runEngram(file, join(work, 'wrong-run'), [], {
      env: { ...process.env, ENGRAM_TEST_REDIS: server.urlAs(USER.name, wrong) },
    });
    assert.notEqual(exit.code, 0);
    const errors = exit.stderr.split('\n').filter((l) => /^error/.test(l));
    assert.equal(errors.length, 1, exit.stderr);
    assert.match(errors[0] ?? '', /authentication failed \(WRONGPASS/);
    assert.match(errors[0] ?? '', /rediss:\/\/trainer:\*\*\*@127\.0\.0\.1/);
    assert.ok(!exit.stderr.includes(wrong), 'the wrong password is not printed');
    assert.ok(!exit.stderr.includes('    at '), 'no stack trace');
  });

  it('a server certificate signed by another CA is refused at once; a missing CA file is an error at its pointer (exit 2)', async () => {
    await assert.rejects(
      probeRedis({ url: server.urlAs('', PASSWORD), ca: certs.otherCa }),
      /cannot connect to Redis at rediss:\/\/:\*\*\*@127\.0\.0\.1:\d+: the server's TLS certificate is not trusted/,
    );
    await assert.rejects(probeRedis({ url: server.urlAs('', 'wrong'), ca: certs.ca }), /authentication failed/);
    await probeRedis({ url: server.urlAs(USER.name, USER.password), ca: certs.ca });
    const file = join(work, 'noca.pipeline.json');
    writeFileSync(
      file,
      JSON.stringify(pipeline(server.urlAs('', PASSWORD), 'missing-ca.pem', server.urlAs('', PASSWORD))),
    );
    const exit = await runEngram(file, join(work, 'noca-run'), []);
    assert.equal(exit.code, 2, exit.stderr);
    assert.match(exit.stderr, /\/data\/ca: cannot read the CA file .*missing-ca\.pem: ENOENT/);
  });

  it('sweeps (BullMQ) and engram serve --redis announcements work through TLS with an ACL user', async () => {
    const target = { url: server.urlAs(USER.name, USER.password), ca: certs.ca };
    const queue = new Queue('doors-sweep', { connection: sweepConnection(target) });
    try {
      await queue.add('combination', { index: 1 });
      assert.equal((await queue.getJobCounts('waiting')).waiting, 1);
    } finally {
      await queue.close();
    }
    const heard: Announcement[] = [];
    const announcements = new ModelAnnouncements(
      target,
      'events:models',
      (a) => heard.push(a),
      () => undefined,
    );
    await announcements.start();
    const publisher = new Redis(target.url, redisTlsOptions(target));
    try {
      while (heard.length === 0) {
        await publisher.publish('events:models', JSON.stringify({ step: 7, checkpoint: '/runs/a/step-7' }));
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(heard[0], { step: 7, checkpoint: '/runs/a/step-7' });
    } finally {
      publisher.disconnect();
      announcements.stop();
    }
  });
});
