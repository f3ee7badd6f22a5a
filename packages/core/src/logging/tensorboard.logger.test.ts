import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import protobuf from 'protobufjs';
import { runPipeline } from '../engine/engine.js';
import type { RunOutcome } from '../engine/run-options.js';
import type { EngramEvent } from '../events/engram-event.js';
import { fixtureDocument, loadFixture } from '../testing/fixture-pipeline.js';
import { TENSORBOARD_PROTO } from './tensorboard-proto.js';
import { crc32c, frameRecord, readRecords } from './tfrecord.js';

/** CRC-32C straight from the definition: reflected Castagnoli polynomial 0x82F63B78, bit by bit. */
function crc32cBitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
const mask = (c: number): number => ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;

interface Decoded {
  step: number;
  fileVersion?: string;
  summary?: {
    value: {
      tag: string;
      simpleValue?: number;
      metadata?: { pluginData?: { pluginName: string } };
      tensor?: { dtype: number; stringVal: Buffer[] };
    }[];
  };
}

/** Reads one event file: framing and CRCs checked here, messages decoded by protobufjs from the proto text. */
function readEventFile(path: string): Decoded[] {
  const Event = protobuf.parse(TENSORBOARD_PROTO).root.lookupType('tensorboard.Event');
  const buf = readFileSync(path);
  const out: Decoded[] = [];
  for (let at = 0; at < buf.length;) {
    const len = Number(buf.readBigUInt64LE(at));
    assert.equal(buf.readUInt32LE(at + 8), mask(crc32cBitwise(buf.subarray(at, at + 8))), `length CRC at ${at}`);
    const data = buf.subarray(at + 12, at + 12 + len);
    assert.equal(buf.readUInt32LE(at + 12 + len), mask(crc32cBitwise(data)), `data CRC at ${at}`);
    out.push(Event.toObject(Event.decode(data), { longs: Number }) as Decoded);
    at += 16 + len;
  }
  return out;
}

const out = (): string => mkdtempSync(join(tmpdir(), 'engram-tb-'));
const doc = fixtureDocument({
  training: { epochs: 2, batchSize: 16, logEvery: 1 },
  checkpoint: { enabled: true, everyBatches: 3, keep: 3 },
  loggers: [{ kind: 'tensorboard' }, { kind: 'csv' }],
});

async function runUntil(dir: string, stopAtStep?: number, resume = false): Promise<RunOutcome> {
  const controller = new AbortController();
  return runPipeline(await loadFixture(doc), {
    outDir: dir,
    signal: controller.signal,
    ...(resume ? { resume: true } : {}),
    observe: (events$) =>
      events$.subscribe((e) => {
        if (stopAtStep !== undefined && e.type === 'batch-end' && e.step >= stopAtStep) controller.abort('SIGTERM');
      }),
  });
}

const tbFiles = (dir: string): string[] =>
  readdirSync(join(dir, 'tensorboard'))
    .sort()
    .map((n) => join(dir, 'tensorboard', n));

/** Every scalar of a run's event files as `tag@step → value`, failing on a step written twice. */
function scalars(dir: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const f of tbFiles(dir))
    for (const e of readEventFile(f))
      for (const v of e.summary?.value ?? []) {
        const key = `${v.tag}@${e.step}`;
        assert.ok(!m.has(key), `${key} written twice`);
        m.set(key, v.simpleValue ?? Number.NaN);
      }
  return m;
}

const metrics = (dir: string): EngramEvent[] =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as EngramEvent);

test('the CRC-32C used to check the files gives the standard check value for "123456789"', () => {
  assert.equal(crc32cBitwise(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
});

test('the record reader ignores a record cut off by a crash and names the offset of a corrupt one', () => {
  const a = frameRecord(Buffer.from('first'));
  const b = frameRecord(Buffer.from('second record'));
  const both = Buffer.concat([a, b]);
  assert.deepEqual(
    readRecords(both.subarray(0, both.length - 3)).map((r) => r.toString()),
    ['first'],
  );
  const bad = Buffer.from(both);
  bad[a.length + 14] = 0x21;
  assert.throws(() => readRecords(bad, 'f'), new RegExp(`^Error: f: record at byte ${a.length} has a bad data CRC$`));
});

test('the tensorboard logger writes framed events whose scalars equal the run’s metrics.jsonl figures', async () => {
  await tf.setBackend('cpu');
  const dir = out();
  const outcome = await runUntil(dir);
  const files = tbFiles(dir);
  assert.equal(files.length, 1);
  assert.match(files[0] ?? '', /events\.out\.tfevents\.\d+\./);
  const events = readEventFile(files[0] ?? '');
  assert.equal(events[0]?.fileVersion, 'brain.Event:2');
  const s = scalars(dir);
  const log = metrics(dir);
  const batches = log.filter((e) => e.type === 'batch-end');
  assert.ok(batches.length > 10);
  for (const b of batches) {
    assert.equal(s.get(`train/loss@${b.step}`), Math.fround(b.loss));
    assert.equal(s.get(`train/accuracy@${b.step}`), Math.fround(b.accuracy));
    assert.equal(s.get(`train/samples_per_second@${b.step}`), Math.fround(b.samplesPerSecond));
  }
  const R = outcome.summary.accuracyMatrix;
  const evalValues = (tag: string): number[] =>
    [...s.entries()].filter(([k]) => k.startsWith(`${tag}@`)).map(([, v]) => v);
  for (let j = 0; j < R.length; j++)
    assert.deepEqual(evalValues(`eval/accuracy/experience_${j}`).slice(-1), [
      Math.fround(R[R.length - 1]?.[j] ?? Number.NaN),
    ]);
  const last = log.filter((e) => e.type === 'batch-end').pop();
  const acc = outcome.summary.averageAccuracy ?? Number.NaN;
  assert.equal(s.get(`metrics/ACC@${last?.type === 'batch-end' ? last.step : -1}`), Math.fround(acc));
  const bwt = outcome.summary.bwt ?? Number.NaN;
  assert.equal(evalValues('metrics/BWT').pop(), Math.fround(bwt));
  const text = events.flatMap((e) => e.summary?.value ?? []).filter((v) => v.tag === 'eval/accuracy_matrix');
  assert.equal(text.length, R.length);
  assert.equal(text[0]?.metadata?.pluginData?.pluginName, 'text');
  assert.equal(text[0]?.tensor?.dtype, 7);
  const table = text.at(-1)?.tensor?.stringVal[0]?.toString('utf8') ?? '';
  assert.ok(table.includes(`${((R[1]?.[0] ?? 0) * 100).toFixed(1)} %`), table);
});

test('a resumed run appends a new event file and CSV rows without writing any step or row twice', async () => {
  await tf.setBackend('cpu');
  const refDir = out();
  await runUntil(refDir);
  const dir = out();
  const stopped = await runUntil(dir, 7);
  assert.equal(stopped.stopped, 'SIGTERM');
  const firstFile = tbFiles(dir)[0] ?? '';
  const before = readFileSync(firstFile);
  const csvBefore = readFileSync(join(dir, 'csv', 'batch-end.csv'), 'utf8');
  const tensors = tf.memory().numTensors;
  await runUntil(dir, undefined, true);
  assert.equal(tf.memory().numTensors, tensors);
  assert.deepEqual(readFileSync(firstFile), before);
  assert.equal(tbFiles(dir).length, 2);
  // The stopped run got past the checkpoint at step 6: steps 6..7 were written once, not again.
  const timeless = (m: Map<string, number>): [string, number][] =>
    [...m.entries()]
      .filter(([k]) => !k.startsWith('run/')) // each run segment ends with its own run/samples_per_second
      .map(([k, v]): [string, number] => [k, k.includes('samples_per_second') ? 0 : v])
      .sort(([a], [b]) => a.localeCompare(b));
  assert.deepEqual(timeless(scalars(dir)), timeless(scalars(refDir)));
  const rows = (d: string): string[] =>
    readFileSync(join(d, 'csv', 'batch-end.csv'), 'utf8')
      .trim()
      .split('\n')
      .map((l) =>
        l
          .split(',')
          .filter((_, i) => i !== 0 && i !== 1 && i !== 13)
          .join(','),
      );
  const csv = readFileSync(join(dir, 'csv', 'batch-end.csv'), 'utf8');
  assert.ok(csv.startsWith(csvBefore));
  assert.equal(csv.match(/^seq,/gm)?.length, 1);
  assert.deepEqual(rows(dir), rows(refDir));
  // seq as in the resumed run's metrics.jsonl (which has the stop's extra checkpoint and run-end)
  const seqs = csv
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => Number(l.split(',')[0]));
  assert.deepEqual(
    seqs,
    metrics(dir)
      .filter((e) => e.type === 'batch-end')
      .map((e) => e.seq),
  );
  const evalRows = readFileSync(join(dir, 'csv', 'evaluation.csv'), 'utf8')
    .trim()
    .split('\n');
  assert.equal(evalRows[0], 'seq,time,afterExperience,experience,accuracy,loss,count,mae,rmse');
  assert.equal(
    evalRows.length,
    readFileSync(join(refDir, 'csv', 'evaluation.csv'), 'utf8')
      .trim()
      .split('\n').length,
  );
});
