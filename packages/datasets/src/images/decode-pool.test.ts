import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../testing/support.js';
import { DecodePool } from './decode-pool.js';
import type { DecodeSpec } from './decode-spec.js';
import { encodePng } from './png-encode.js';

const spec: DecodeSpec = { channels: 1, height: 2, width: 2, scale: 1 };

test('every job is posted to a worker at once, spread evenly, and each answer reaches its own request', async () => {
  const { dir, cleanup } = tempDir();
  const pool = new DecodePool(2);
  try {
    const files = Array.from({ length: 6 }, (_, i) => {
      const file = join(dir, `${i}.png`);
      writeFileSync(file, encodePng(2, 2, 1, new Uint8Array(4).fill(10 * i + 7)));
      return file;
    });
    const replies = files.map((f) => pool.decode([f], spec));
    // Nothing waits in the main thread for a worker to become idle: all six are with the workers.
    assert.equal(pool.inFlight, 6);
    const got = await Promise.all(replies);
    assert.deepEqual(
      got.map((r) => Array.from(r.x)),
      files.map((_, i) => [10 * i + 7, 10 * i + 7, 10 * i + 7, 10 * i + 7]),
    );
    assert.equal(pool.inFlight, 0);
  } finally {
    await pool.close();
    cleanup();
  }
});

test('a closed pool fails the jobs it still held and refuses new ones', async () => {
  const { dir, cleanup } = tempDir();
  const pool = new DecodePool(1);
  try {
    const file = join(dir, 'a.png');
    writeFileSync(file, encodePng(2, 2, 1, new Uint8Array(4).fill(1)));
    const held = Array.from({ length: 3 }, () => pool.decode([file], spec));
    const settled = Promise.allSettled(held);
    await pool.close();
    const outcomes = await settled;
    // The worker may answer some before it is terminated; the rest fail with the pool's reason.
    for (const o of outcomes)
      if (o.status === 'rejected') assert.match(String(o.reason), /the image decode pool is closed/);
    assert.equal(pool.inFlight, 0);
    await assert.rejects(pool.decode([file], spec), /the image decode pool is closed/);
  } finally {
    cleanup();
  }
});
