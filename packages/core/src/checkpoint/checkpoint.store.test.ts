import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CheckpointStore, CorruptCheckpointError, safeJoin } from './checkpoint.store.js';

const files = (n: number) => [
  { path: 'run.json', data: JSON.stringify({ n }) },
  { path: 'model/weights.bin', data: new Uint8Array([1, 2, 3, 4, n]) },
];

function freshStore(keep = 3): CheckpointStore {
  return new CheckpointStore(join(mkdtempSync(join(tmpdir(), 'engram-store-')), 'checkpoints'), keep, 'test');
}

describe('CheckpointStore', () => {
  it('reads back exactly what it wrote, with a sha256 per file in the manifest', async () => {
    const store = freshStore();
    const { dir, bytes } = await store.write(7, files(7));
    const { manifest, files: read } = await CheckpointStore.read(dir);
    assert.equal(manifest.step, 7);
    assert.equal(bytes, '{"n":7}'.length + 5);
    assert.deepEqual([...(read.get('model/weights.bin') ?? [])], [1, 2, 3, 4, 7]);
    assert.match(manifest.files['run.json']?.sha256 ?? '', /^[0-9a-f]{64}$/);
  });

  it('keeps only the newest K checkpoints', async () => {
    const store = freshStore(2);
    for (const step of [2, 4, 6, 8]) await store.write(step, files(step));
    assert.deepEqual(
      (await store.list()).map((d) => d.slice(-4)),
      ['0008', '0006'],
    );
  });

  it('ignores a half-written temporary directory left by a crash', async () => {
    const store = freshStore();
    await store.write(2, files(2));
    mkdirSync(join(store.root, '.tmp-step-000000000004-999999'), { recursive: true });
    assert.equal((await store.list()).length, 1);
    await store.write(6, files(6));
    assert.deepEqual(
      readdirSync(store.root).sort(),
      ['step-000000000002', 'step-000000000006'],
      'the next write removes the stale temporary directory',
    );
  });

  it('rejects a checkpoint with a flipped byte', async () => {
    const store = freshStore();
    const { dir } = await store.write(2, files(2));
    const path = join(dir, 'model', 'weights.bin');
    const data = readFileSync(path);
    data[0] = 99;
    writeFileSync(path, data);
    await assert.rejects(
      CheckpointStore.read(dir),
      (e: unknown) => e instanceof CorruptCheckpointError && /weights\.bin fails its checksum/.test(e.message),
    );
  });

  it('rejects a truncated file and a missing manifest', async () => {
    const store = freshStore();
    const { dir } = await store.write(2, files(2));
    truncateSync(join(dir, 'run.json'), 3);
    await assert.rejects(CheckpointStore.read(dir), /run\.json fails its checksum/);
    truncateSync(join(dir, 'manifest.json'), 10);
    await assert.rejects(CheckpointStore.read(dir), /unreadable manifest/);
  });

  it('refuses manifest paths that escape the checkpoint directory', async () => {
    const store = freshStore();
    const { dir } = await store.write(2, files(2));
    for (const evil of ['../../outside.txt', '/etc/passwd', 'model/../../x']) {
      const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
        files: Record<string, unknown>;
      };
      manifest.files = { [evil]: { sha256: '0'.repeat(64), bytes: 0 } };
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
      await assert.rejects(
        CheckpointStore.read(dir),
        (e: unknown) => e instanceof CorruptCheckpointError && /escapes the checkpoint directory/.test(e.message),
        evil,
      );
    }
    assert.throws(() => safeJoin(dir, '..'), CorruptCheckpointError);
    assert.equal(safeJoin(dir, 'model/model.json'), join(dir, 'model', 'model.json'));
  });

  it('overwrites a checkpoint of the same step atomically', async () => {
    const store = freshStore();
    await store.write(4, files(1));
    const { dir } = await store.write(4, files(2));
    assert.deepEqual(JSON.parse(new TextDecoder().decode((await CheckpointStore.read(dir)).files.get('run.json'))), {
      n: 2,
    });
    assert.deepEqual(readdirSync(store.root), ['step-000000000004']);
  });
});
