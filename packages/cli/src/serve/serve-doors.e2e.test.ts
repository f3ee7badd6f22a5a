import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeCertificates, type TestCertificates } from '@engram/datasets/testing';
import { MAIN, runEngram } from '../commands/e2e-harness.js';
import { spawnServed, type SpawnedServer } from './testing/spawn-served.js';

const TOKEN = 'client-Token-3f9a1c';
const METRICS_TOKEN = 'metrics-Literal-Token-77';
const SAMPLES = 200;

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/** One https request trusting only `ca`; `firstChunk` resolves with the first bytes of a stream (SSE). */
function call(
  base: string,
  ca: string,
  method: string,
  path: string,
  options: { body?: unknown; token?: string; firstChunk?: boolean } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = request(
      `${base}${path}`,
      {
        method,
        ca: readFileSync(ca),
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(options.token !== undefined ? { authorization: `Bearer ${options.token}` } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => {
          text += d.toString();
          if (options.firstChunk) {
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text });
            req.destroy();
          }
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', (e) => (options.firstChunk ? undefined : reject(e)));
    req.end(body);
  });
}

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** The value of a Prometheus sample (0 when absent). */
function sample(metrics: string, name: string): number {
  const m = new RegExp(`^${name.replace(/[{}"=]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(metrics);
  return m ? Number(m[1]) : 0;
}

describe('serving behind a bearer token over https (engram run --serve, engram serve)', () => {
  let certs: TestCertificates;
  let dir: string;
  let out: string;

  before(() => {
    certs = makeCertificates();
    dir = mkdtempSync(join(tmpdir(), 'engram-doors-'));
    out = join(dir, 'run');
    copyFileSync(certs.key, join(dir, 'server.key'));
    copyFileSync(certs.cert, join(dir, 'server.crt'));
    process.env['ENGRAM_SERVE_TOKEN'] = TOKEN;
  });

  after(() => {
    certs.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('without the token nothing is predicted or learned (401, WWW-Authenticate: Bearer); with it the run learns from feedback; no file holds a token', async () => {
    const pipeline = {
      name: 'doors',
      seed: 5,
      backend: 'cpu',
      plugins: ['@engram/datasets', '@engram/strategies'],
      data: { kind: 'feedback', inputShape: [2], numClasses: 2, buffer: 64, policy: 'block', channel: 'default' },
      model: { layers: [{ type: 'dense', units: 8, activation: 'relu' }] },
      optimizer: { type: 'adam', learningRate: 0.01 },
      strategy: { kind: 'naive' },
      training: { batchSize: 10, maxSamples: SAMPLES, logEvery: 2 },
      checkpoint: { everyBatches: 5 },
      serve: {
        port: 0,
        publishEvery: 2,
        linger: false,
        token: '${ENGRAM_SERVE_TOKEN}',
        metricsToken: METRICS_TOKEN,
        tls: { key: 'server.key', cert: 'server.crt' },
      },
    };
    writeFileSync(join(dir, 'doors.pipeline.json'), JSON.stringify(pipeline));
    const server = await spawnServed(['run', join(dir, 'doors.pipeline.json'), '--out', out, '--quiet']);
    try {
      assert.match(server.base, /^https:\/\/127\.0\.0\.1:\d+$/);
      const ca = certs.ca;
      const instances = [
        [1, 0],
        [0, 1],
      ];
      assert.equal((await call(server.base, ca, 'GET', '/healthz')).status, 200, '/healthz is open');
      let ready = await call(server.base, ca, 'GET', '/readyz');
      while (ready.status === 503) {
        await new Promise((r) => setTimeout(r, 50));
        ready = await call(server.base, ca, 'GET', '/readyz');
      }
      assert.equal(ready.status, 200, '/readyz is open');

      const bare = await call(server.base, ca, 'POST', '/predict', { body: { instances } });
      assert.equal(bare.status, 401);
      assert.equal(bare.headers['www-authenticate'], 'Bearer realm="engram"');
      const wrong = await call(server.base, ca, 'POST', '/predict', { body: { instances }, token: `${TOKEN}x` });
      assert.equal(wrong.status, 401);
      assert.match(String(wrong.headers['www-authenticate']), /^Bearer .*error="invalid_token"/);
      assert.ok(!wrong.text.includes(TOKEN), 'the answer does not echo the token');
      const metricsToken = await call(server.base, ca, 'POST', '/predict', {
        body: { instances },
        token: METRICS_TOKEN,
      });
      assert.equal(metricsToken.status, 401, 'the metrics token does not open /predict');
      const feedback = await call(server.base, ca, 'POST', '/feedback', { body: { id: 'p-1', y: 0 } });
      assert.equal(feedback.status, 401);
      assert.equal((await call(server.base, ca, 'GET', '/metrics')).status, 401);
      assert.equal((await call(server.base, ca, 'GET', '/metrics', { token: TOKEN })).status, 401);
      assert.equal((await call(server.base, ca, 'GET', '/versions/1/promote', { token: 'nope' })).status, 401);

      const before = await call(server.base, ca, 'GET', '/metrics', { token: METRICS_TOKEN });
      assert.equal(before.status, 200);
      assert.equal(sample(before.text, 'engram_predictions_total'), 0, 'refused requests predicted nothing');
      assert.equal(sample(before.text, 'engram_feedback_total{result="accepted"}'), 0);
      assert.equal(sample(before.text, 'engram_samples_trained_total'), 0, 'refused requests taught nothing');
      assert.equal(sample(before.text, 'engram_queue_depth'), 0);

      const sse = await call(server.base, ca, 'GET', '/events', { token: METRICS_TOKEN, firstChunk: true });
      assert.equal(sse.status, 200, 'the event stream works over https');
      assert.match(String(sse.headers['content-type']), /text\/event-stream/);
      const page = await call(server.base, ca, 'GET', '/', { token: METRICS_TOKEN });
      assert.equal(page.status, 200);
      assert.match(page.text, /<html/i);

      // Learns from labelled predictions until maxSamples, then exits (linger: false).
      for (let k = 0; k < SAMPLES / 20; k++) {
        const batch = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? [1 + i / 40, 0] : [0, 1 + i / 40]));
        const r = await call(server.base, ca, 'POST', '/predict', { body: { instances: batch }, token: TOKEN });
        assert.equal(r.status, 200, r.text);
        const preds = (JSON.parse(r.text) as { predictions: Array<{ id: string }> }).predictions;
        for (const [i, p] of preds.entries()) {
          const f = await call(server.base, ca, 'POST', '/feedback', { body: { id: p.id, y: i % 2 }, token: TOKEN });
          assert.equal(f.status, 202, f.text);
        }
      }
      assert.equal(await server.exited, 0, server.stderr());
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { trainSamples: number };
      assert.equal(summary.trainSamples, SAMPLES);
      for (const f of filesUnder(out)) {
        const text = readFileSync(f).toString('latin1');
        assert.ok(!text.includes(TOKEN), `${f} holds the client token`);
        assert.ok(!text.includes(METRICS_TOKEN), `${f} holds the metrics token`);
      }
      assert.ok(!server.stderr().includes(TOKEN) && !server.stderr().includes(METRICS_TOKEN));
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it('engram serve keeps the run locked (its ${ENGRAM_SERVE_TOKEN}; a redacted literal token needs the flag) and serves https', async () => {
    // The run's metricsToken was literal, so it was stored redacted: serving open is refused.
    const open = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [MAIN, 'serve', out, '--port', '0'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    assert.equal(open.code, 2, open.stderr);
    assert.match(
      open.stderr,
      /^error: the run's serve\.metricsToken was written literally .* give --metrics-token-env NAME$/m,
    );
    process.env['ENGRAM_TEST_REPLICA_METRICS'] = 'replica-Metrics-Token';
    const served: SpawnedServer = await spawnServed([
      'serve',
      out,
      '--port',
      '0',
      '--metrics-token-env',
      'ENGRAM_TEST_REPLICA_METRICS',
      '--tls-key',
      certs.key,
      '--tls-cert',
      certs.cert,
    ]);
    try {
      assert.match(served.base, /^https:/);
      const body = { instances: [[1, 0]] };
      assert.equal(
        (await call(served.base, certs.ca, 'POST', '/predict', { body })).status,
        401,
        'the run token is inherited',
      );
      const ok = await call(served.base, certs.ca, 'POST', '/predict', { body, token: TOKEN });
      assert.equal(ok.status, 200, ok.text);
      assert.equal((await call(served.base, certs.ca, 'GET', '/metrics')).status, 401);
      const metrics = await call(served.base, certs.ca, 'GET', '/metrics', { token: 'replica-Metrics-Token' });
      assert.equal(metrics.status, 200);
      assert.equal(sample(metrics.text, 'engram_predictions_total'), 1, 'only the authorised request predicted');
    } finally {
      served.child.kill('SIGTERM');
      await served.exited;
    }
  });

  it('a missing TLS file or an unset token variable is one line at its pointer, exit 2', async () => {
    const doc = {
      name: 'doors-bad',
      backend: 'cpu',
      plugins: ['@engram/datasets', '@engram/strategies'],
      data: { kind: 'synthetic', numClasses: 2, features: 2, samplesPerClass: 10 },
      model: { layers: [{ type: 'dense', units: 4 }] },
      optimizer: { type: 'sgd', learningRate: 0.1 },
      strategy: { kind: 'naive' },
      serve: { port: 0, tls: { key: 'no-such.key', cert: 'server.crt' } },
    };
    writeFileSync(join(dir, 'bad-tls.pipeline.json'), JSON.stringify(doc));
    const tls = await runEngram(join(dir, 'bad-tls.pipeline.json'), join(dir, 'bad-tls'), []);
    assert.equal(tls.code, 2, tls.stderr);
    assert.match(tls.stderr, /\/serve\/tls\/key: cannot read .*no-such\.key: ENOENT/);
    writeFileSync(
      join(dir, 'bad-token.pipeline.json'),
      JSON.stringify({ ...doc, serve: { port: 0, token: '${ENGRAM_NO_SUCH_TOKEN_VAR}' } }),
    );
    const token = await runEngram(join(dir, 'bad-token.pipeline.json'), join(dir, 'bad-token'), []);
    assert.equal(token.code, 2, token.stderr);
    assert.match(token.stderr, /\/serve\/token: environment variable ENGRAM_NO_SUCH_TOKEN_VAR is not set/);
  });
});
