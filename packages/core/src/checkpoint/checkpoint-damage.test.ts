import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointStore, CorruptCheckpointError } from './checkpoint.store.js';
import { historyHash, readHistory } from './history-check.js';
import { checkCursorState, parseRunJson, parseRunJsonV1 } from './run-json.schema.js';
import { decodeStates, encodeStates } from './state-codec.js';

const files = [
  { path: 'run.json', data: '{"a":1}' },
  { path: 'state.bin', data: new Uint8Array(4096).fill(7) },
  { path: 'model/weights.bin', data: new Uint8Array(64).fill(1) },
];

async function fresh(): Promise<{ root: string; dir: string; cleanup: () => void }> {
  const root = mkdtempSync(join(tmpdir(), 'engram-damage-'));
  const { dir } = await new CheckpointStore(join(root, 'checkpoints'), 3, 'test').write(5, files);
  return { root, dir, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

async function refusal(dir: string): Promise<string> {
  try {
    await CheckpointStore.read(dir);
  } catch (e) {
    assert.ok(e instanceof CorruptCheckpointError, `a CorruptCheckpointError, not ${String(e)}`);
    return e.message;
  }
  return 'accepted';
}

test('a manifest that is null, lacks files, or has malformed entries is a corrupt checkpoint, not a TypeError', async () => {
  const { dir, cleanup } = await fresh();
  try {
    const good = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    const variants: Array<[unknown, RegExp]> = [
      [null, /manifest is not a JSON object/],
      [{ ...good, files: null }, /"files" is missing or not an object/],
      [(({ files, ...rest }) => ({ ...rest, filez: files }))(good), /"files" is missing/],
      [{ ...good, files: { 'run.json': null } }, /entry "run.json" is not \{ sha256, bytes \}/],
      [{ ...good, files: { 'run.json': { sha256: 'x', bytes: 7 } } }, /not \{ sha256, bytes \}/],
      [{ ...good, step: 1e18 }, /"step" is not a non-negative integer/],
      [
        { ...good, files: { '../../etc/passwd': { sha256: 'a'.repeat(64), bytes: 1 } } },
        /escapes the checkpoint directory/,
      ],
    ];
    for (const [manifest, reason] of variants) {
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
      assert.match(await refusal(dir), reason);
    }
  } finally {
    cleanup();
  }
});

test('only regular files inside the checkpoint are read, and their size is checked before reading', async () => {
  const { root, dir, cleanup } = await fresh();
  try {
    rmSync(join(dir, 'state.bin'));
    symlinkSync('/dev/zero', join(dir, 'state.bin'));
    assert.match(await refusal(dir), /state\.bin is a symlink; only regular files are read/);
    rmSync(join(dir, 'state.bin'));
    execFileSync('mkfifo', [join(dir, 'state.bin')]);
    assert.match(await refusal(dir), /state\.bin is not a regular file/);
    rmSync(join(dir, 'state.bin'));
    writeFileSync(join(root, 'outside.bin'), new Uint8Array(4096).fill(7));
    symlinkSync(join(root, 'outside.bin'), join(dir, 'state.bin'));
    assert.match(await refusal(dir), /symlink/);
    rmSync(join(dir, 'state.bin'));
    writeFileSync(join(dir, 'state.bin'), new Uint8Array(4096).fill(7));
    // a symlinked folder leading out of the checkpoint
    mkdirSync(join(root, 'elsewhere'));
    renameSync(join(dir, 'model'), join(root, 'elsewhere', 'model'));
    symlinkSync(join(root, 'elsewhere', 'model'), join(dir, 'model'));
    assert.match(await refusal(dir), /model\/weights\.bin lies outside the checkpoint directory/);
    rmSync(join(dir, 'model'));
    renameSync(join(root, 'elsewhere', 'model'), join(dir, 'model'));
    writeFileSync(join(dir, 'state.bin'), new Uint8Array(1 << 20));
    assert.match(await refusal(dir), /state\.bin fails its checksum \(1048576 bytes, the manifest says 4096\)/);
  } finally {
    cleanup();
  }
});

test('a state entry named __proto__ is kept as an entry and does not hide the optimizer state', () => {
  const optimizer = {
    meta: ['w'],
    arrays: { '0': { dtype: 'float32' as const, shape: [2], data: new Float32Array([1, 2]) } },
  };
  const states = JSON.parse('{"__proto__": {"meta": 1}}') as Record<string, unknown>;
  Object.assign(states, { optimizer });
  const { json, bin } = encodeStates(states as never);
  const back = decodeStates(json, bin);
  assert.deepEqual(Object.keys(back).sort(), ['__proto__', 'optimizer']);
  assert.deepEqual(Array.from(back['optimizer']?.arrays?.['0']?.data ?? []), [1, 2]);
  const hostile =
    '{"__proto__":{"meta":null,"arrays":{}},"optimizer":{"meta":["w"],"arrays":{"__proto__":{"dtype":"float32","shape":[2],"offset":0,"length":2}}}}';
  const decoded = decodeStates(hostile, new Uint8Array(new Float32Array([3, 4]).buffer));
  assert.deepEqual(Array.from(decoded['optimizer']?.arrays?.['__proto__']?.data ?? []), [3, 4]);
  assert.throws(
    () =>
      decodeStates('{"s":{"arrays":{"a":{"dtype":"float32","shape":[3],"offset":0,"length":2}}}}', new Uint8Array(8)),
    /shape that does not match/,
  );
  assert.throws(() => decodeStates('null', new Uint8Array(0)), /not a JSON object/);
});

test('run.json and the cursor state are validated by their schemas: a cursor step of 1e18 is a corrupt checkpoint', () => {
  const good = { reason: 'batches', metrics: { bytes: 10, seq: 2 }, wallSeconds: 1.5, pipeline: {} };
  assert.equal(parseRunJson(JSON.stringify(good), 'ck').reason, 'batches');
  assert.throws(
    () => parseRunJson(JSON.stringify({ ...good, reason: 'whenever' }), 'ck'),
    (e: unknown) => e instanceof CorruptCheckpointError && /run\.json \/reason/.test(e.message),
  );
  assert.throws(() => parseRunJson('{"reason":', 'ck'), /run\.json is not JSON/);
  assert.throws(() => parseRunJson('null', 'ck'), CorruptCheckpointError);
  const cursor = {
    cursor: { experience: 0, epoch: 0, batch: 3, step: 3, samples: 48, experienceDone: false },
    seenClasses: [0, 1],
    trainSeconds: 0.5,
  };
  checkCursorState(cursor, 'ck');
  assert.throws(
    () => checkCursorState({ ...cursor, cursor: { ...cursor.cursor, step: 1e18 } }, 'ck'),
    (e: unknown) =>
      e instanceof CorruptCheckpointError && /\/cursor\/step: must be <= 9007199254740991/.test(e.message),
  );
  assert.throws(() => checkCursorState(undefined, 'ck'), /no state for \/run\/cursor/);
  const v1 = { ...cursor, rng: { run: [1, 2, 3, 4], dropout: [5, 6, 7, 8] }, source: null, pipeline: {} };
  assert.equal(parseRunJsonV1(JSON.stringify(v1), 'ck').cursor.step, 3);
  assert.throws(
    () => parseRunJsonV1(JSON.stringify({ ...v1, cursor: { ...v1.cursor, step: 1e18 } }), 'ck'),
    CorruptCheckpointError,
  );
});

test('a metric history with a garbage byte, a changed digit or cut short is a corrupt checkpoint naming the file', async () => {
  const root = mkdtempSync(join(tmpdir(), 'engram-history-'));
  try {
    const file = join(root, 'metrics.jsonl');
    const text =
      '{"type":"run-start","seq":0,"time":1}\n{"type":"batch-end","seq":1,"time":2,"loss":0.5}\n{"type":"checkpoint","seq":2,"time":3}\n';
    const bytes = Buffer.byteLength(text);
    const mark = { bytes, seq: 2, sha256: historyHash(Buffer.from(text)) };
    writeFileSync(file, `${text}{"type":"later","seq":3,"time":4}\n`);
    assert.equal((await readHistory(file, mark, 'ck')).length, 3);
    const refused = async (content: string, reason: RegExp): Promise<void> => {
      writeFileSync(file, content);
      await assert.rejects(
        readHistory(file, mark, 'ck'),
        (e: unknown) => e instanceof CorruptCheckpointError && reason.test(e.message) && e.message.includes(file),
      );
    };
    await refused(text.replace('0.5', '0.6'), /was changed since the checkpoint was written/);
    await refused(text.slice(0, 50), /is 50 bytes, shorter than the \d+ the checkpoint was written with/);
    await refused(text.replace('"time":2', '"time"\u00012'), /changed/);
    // without a hash (older checkpoints) a damaged line is still found, with its number
    await assert.rejects(readHistory(file, { bytes, seq: 2 }, 'ck'), /has a damaged line 2 \(not JSON\)/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
