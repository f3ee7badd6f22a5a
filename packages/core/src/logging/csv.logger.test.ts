import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Subject } from 'rxjs';
import type { EngramEvent } from '../events/engram-event.js';
import { CsvLogger } from './csv.logger.js';

const boundary = (seq: number, step: number, reason: string): EngramEvent => ({
  type: 'boundary',
  seq,
  time: seq / 2,
  step,
  reason,
});

async function logAll(dir: string, events: EngramEvent[]): Promise<void> {
  const events$ = new Subject<EngramEvent>();
  const logger = new CsvLogger({});
  logger.attach(events$, dir);
  for (const e of events) events$.next(e);
  await logger.close();
}

test('the csv logger quotes cells, ends a line cut off by a crash and skips the seqs a file already holds', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-csv-'));
  await logAll(dir, [boundary(3, 10, 'drift, "sudden"'), boundary(5, 20, 'plain')]);
  const file = join(dir, 'csv', 'boundary.csv');
  appendFileSync(file, '7,3.5,30,cut'); // a crash in the middle of a row
  await logAll(dir, [boundary(5, 20, 'plain'), boundary(7, 30, 'again'), boundary(9, 40, 'new')]);
  assert.equal(
    readFileSync(file, 'utf8'),
    'seq,time,step,reason\n' +
      '3,1.5,10,"drift, ""sudden"""\n' +
      '5,2.5,20,plain\n' +
      '7,3.5,30,cut\n' +
      '7,3.5,30,again\n' +
      '9,4.5,40,new\n',
  );
});

test('the csv logger writes the step of experience-start and a regression run’s MAE columns (epochMae, mae, rmse)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-csv-'));
  await logAll(dir, [
    { type: 'experience-start', seq: 0, time: 1, experience: 1, classes: [], trainSize: 96, step: 42 },
    {
      type: 'batch-end',
      seq: 1,
      time: 2,
      experience: 1,
      epoch: 0,
      batch: 1,
      batches: 6,
      step: 43,
      size: 16,
      loss: 0.5,
      penalty: 0,
      accuracy: 0,
      epochLoss: 0.5,
      epochAccuracy: 0,
      epochMae: 0.625,
      samplesPerSecond: 100,
    },
    { type: 'epoch-end', seq: 2, time: 3, experience: 1, epoch: 0, loss: 0.4, accuracy: 0, mae: 0.5 },
    {
      type: 'evaluation',
      seq: 3,
      time: 4,
      afterExperience: 1,
      results: [{ experience: 0, accuracy: 0, loss: 0.3, count: 24, mae: 0.25, rmse: 0.375 }],
    },
  ]);
  const read = (type: string): Record<string, string>[] => {
    const [header = '', ...rows] = readFileSync(join(dir, 'csv', `${type}.csv`), 'utf8')
      .trim()
      .split('\n');
    const columns = header.split(',');
    return rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [columns[i] ?? '', v])));
  };
  assert.equal(read('experience-start')[0]?.['step'], '42');
  assert.equal(read('experience-start')[0]?.['trainSize'], '96');
  assert.equal(read('batch-end')[0]?.['epochMae'], '0.625');
  assert.equal(read('batch-end')[0]?.['samplesPerSecond'], '100', 'the earlier columns keep their places');
  assert.equal(read('epoch-end')[0]?.['mae'], '0.5');
  assert.deepEqual(read('evaluation')[0], {
    seq: '3',
    time: '4',
    afterExperience: '1',
    experience: '0',
    accuracy: '0',
    loss: '0.3',
    count: '24',
    mae: '0.25',
    rmse: '0.375',
  });
});
