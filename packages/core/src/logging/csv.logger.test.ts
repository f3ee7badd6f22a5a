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
