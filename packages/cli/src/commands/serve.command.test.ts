import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { runPipeline } from '@engram/core';
import { REDIS_SERVER, startRedis } from '@engram/datasets/testing';
import { Redis } from 'ioredis';
import { loadPipelineFile } from '../cli-context.js';
import { checkpointDirs } from './e2e-harness.js';
import { spawnServed } from '../serve/testing/spawn-served.js';
import { postJson, testPipeline } from '../serve/testing/served-run.js';
import { patience } from '../testing/patience.js';

const INSTANCES = [
  [1, 2, 3, 4],
  [-1, 0, 0.5, 2],
];

async function readyStep(base: string): Promise<number> {
  const r = (await (await fetch(`${base}/readyz`)).json()) as { model?: { step: number } };
  return r.model?.step ?? -1;
}

test("engram serve answers from a run's newest valid checkpoint, read-only, and with --follow moves to a newer one", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-serve-cmd-'));
  try {
    const file = join(dir, 'pipeline.json');
    writeFileSync(
      file,
      JSON.stringify(
        testPipeline('serve-cmd', {
          checkpoint: { everyBatches: 6, keep: 100 },
          preprocess: [{ kind: 'normalize' }],
        }),
      ),
    );
    const out = join(dir, 'run');
    await runPipeline(await loadPipelineFile(file), { outDir: out });
    const all = checkpointDirs(out);
    assert.ok(all.length >= 3);

    // The whole run folder: the newest checkpoint (the run's last step).
    const whole = await spawnServed(['serve', out, '--port', '0']);
    let final: unknown;
    try {
      assert.equal(await readyStep(whole.base), 36);
      const p = await postJson(`${whole.base}/predict`, { instances: INSTANCES });
      assert.equal(p.status, 200);
      assert.deepEqual(p.body.model, { version: 1, step: 36, experience: 1 });
      final = p.body.predictions;
      const fb = await postJson(`${whole.base}/feedback`, { id: 'x', y: 0 });
      assert.equal(fb.status, 404);
      assert.equal(fb.body.reason, 'read-only');
      assert.match(await (await fetch(`${whole.base}/metrics`)).text(), /^engram_model_step 36$/m);
    } finally {
      whole.child.kill('SIGTERM');
      assert.equal(await whole.exited, 0);
    }

    // A folder that holds only the oldest checkpoint at first; the newest is renamed in while it serves.
    const follow = join(dir, 'follow', 'checkpoints');
    mkdirSync(follow, { recursive: true });
    cpSync(all[0] as string, join(follow, basename(all[0] as string)), { recursive: true });
    const served = await spawnServed([
      'serve',
      join(dir, 'follow'),
      '--port',
      '0',
      '--follow',
      '--poll-seconds',
      '0.2',
    ]);
    try {
      assert.equal(await readyStep(served.base), 6);
      const newest = all[all.length - 1] as string;
      cpSync(newest, join(dir, 'follow', 'incoming'), { recursive: true });
      renameSync(join(dir, 'follow', 'incoming'), join(follow, basename(newest)));
      const deadline = Date.now() + patience(30_000);
      while ((await readyStep(served.base)) !== 36 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      const p = await postJson(`${served.base}/predict`, { instances: INSTANCES });
      assert.deepEqual(p.body.model, { version: 2, step: 36, experience: 1 });
      const strip = (x: unknown): unknown =>
        (x as Array<{ probabilities: number[]; label: number }>).map(({ probabilities, label }) => ({
          probabilities,
          label,
        }));
      assert.deepEqual(
        strip(p.body.predictions),
        strip(final),
        'the followed checkpoint answers as the run folder did (same weights, same fitted normalisation)',
      );
    } finally {
      served.child.kill('SIGTERM');
      assert.equal(await served.exited, 0);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('engram serve of a folder without checkpoints exits 2 with one line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-serve-empty-'));
  try {
    await assert.rejects(
      spawnServed(['serve', dir, '--port', '0']),
      /exited \(2\) before serving: error: no checkpoint in/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(
  "engram serve --follow --redis reloads as soon as the trainer's redis-stream logger announces a checkpoint, without polling the folder",
  { skip: existsSync(REDIS_SERVER) ? false : `${REDIS_SERVER} not found` },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'engram-serve-redis-'));
    const redis = await startRedis();
    const client = new Redis(redis.url);
    try {
      const file = join(dir, 'pipeline.json');
      writeFileSync(file, JSON.stringify(testPipeline('serve-redis', { checkpoint: { everyBatches: 6, keep: 100 } })));
      const out = join(dir, 'run');
      await runPipeline(await loadPipelineFile(file), { outDir: out });
      const all = checkpointDirs(out);
      const follow = join(dir, 'replica', 'checkpoints');
      mkdirSync(follow, { recursive: true });
      cpSync(all[0] as string, join(follow, basename(all[0] as string)), { recursive: true });
      // Polling once an hour: only the announcement can bring the newer version in time.
      const served = await spawnServed([
        'serve',
        join(dir, 'replica'),
        '--port',
        '0',
        '--follow',
        '--poll-seconds',
        '3600',
        '--redis',
        redis.url,
        '--models-channel',
        'engram:test:models',
      ]);
      try {
        assert.equal(await readyStep(served.base), 6);
        await client.publish('engram:test:models', 'not json');
        await client.publish(
          'engram:test:models',
          JSON.stringify({ run: 'serve-redis', outDir: out, step: 36, checkpoint: all[all.length - 1], metrics: {} }),
        );
        const deadline = Date.now() + patience(30_000);
        while ((await readyStep(served.base)) !== 36 && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 100));
        assert.equal(await readyStep(served.base), 36);
        assert.match(served.stderr(), /now serving .*step-000000000036 \(model version 2, step 36\)/);
      } finally {
        served.child.kill('SIGTERM');
        assert.equal(await served.exited, 0);
      }
    } finally {
      client.disconnect();
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
