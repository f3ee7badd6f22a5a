import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reportAgainstAnchors, type AnchorReport, type BenchRow, type JsonObject } from './bench-report.js';
import type { PytorchAnchor } from './pytorch.bench.js';
import { RoundLog } from './round-log.js';

const ANCHORS: PytorchAnchor[] = [
  { python: '/usr/bin/python3', torch: '1.13.0', key: 'torch1_13_0' },
  { python: '/opt/py/bin/python', torch: '2.3.0', key: 'torch2_3_0' },
  { python: '/opt/other/bin/python', torch: '2.4.0', key: 'torch2_4_0' },
];

/** A log of one quiet round with `values` recorded. */
async function logOf(values: Record<string, number>): Promise<RoundLog> {
  const log = new RoundLog('case', async (fn) => ({
    result: await fn(),
    quietness: { othersCores: 0, ownCores: 1, ticks: 100, load1Start: 1, load1End: 1, quiet: true },
  }));
  await log.round(async (record) => {
    for (const [k, v] of Object.entries(values)) record(k, v);
  });
  return log;
}

test('each anchor gets its entry and row, the fastest anchor its keys; an anchor that did not run has no row', async () => {
  // torch2_4_0 did not run (no value): it keeps an empty entry, as the throughput section's JSON has.
  const log = await logOf({ engine: 300, torch1_13_0: 600, torch2_3_0: 1200 });
  const json: JsonObject = { pytorch: { torch1_13_0: { python: 'kept', torch: '1.13.0', earlier: 1 } } };
  const rows: BenchRow[] = [];
  reportAgainstAnchors(log, ANCHORS, rows, {
    label: 'mlp',
    entries: json['pytorch'] as JsonObject,
    newEntry: (a) => ({ python: a.python, torch: a.torch }),
    anchorValues: (a) => ({ mlp: log.value(a.key), mlpVsPytorch: log.ratio('engine', a.key) }),
    fastestTarget: json,
    fastestValues: (best) => ({ mlpPytorchAnchor: best.key, mlpVsPytorch: log.ratio('engine', best.key) }),
  });
  assert.equal(
    JSON.stringify(json),
    JSON.stringify({
      pytorch: {
        torch1_13_0: { python: 'kept', torch: '1.13.0', earlier: 1, mlp: 600, mlpVsPytorch: 0.5 },
        torch2_3_0: { python: '/opt/py/bin/python', torch: '2.3.0', mlp: 1200, mlpVsPytorch: 0.25 },
        torch2_4_0: { python: '/opt/other/bin/python', torch: '2.4.0' },
      },
      mlpPytorchAnchor: 'torch2_3_0',
      mlpVsPytorch: 0.25,
    }),
  );
  assert.deepEqual(rows, [
    { name: 'mlp pytorch 1.13.0', value: 600, unit: 'samples/s' },
    { name: 'mlp pytorch 2.3.0', value: 1200, unit: 'samples/s' },
  ]);
});

test('with onlyMeasured an anchor without values gets no entry, and with no anchor measured nothing is written', async () => {
  const bigReport = (log: RoundLog, entries: JsonObject, target: JsonObject): AnchorReport => ({
    label: 'cnn-big',
    entries,
    newEntry: (a) => ({ torch: a.torch }),
    anchorValues: (a) => ({ samplesPerSecond: log.value(a.key) }),
    onlyMeasured: true,
    fastestTarget: target,
    fastestValues: (best) => ({ vsPytorch: log.ratio('engine', best.key), pytorchAnchor: best.key }),
  });
  const log = await logOf({ engine: 50, torch2_4_0: 25 });
  const entries: JsonObject = {};
  const target: JsonObject = {};
  const rows: BenchRow[] = [];
  reportAgainstAnchors(log, ANCHORS, rows, bigReport(log, entries, target));
  assert.deepEqual(entries, { torch2_4_0: { torch: '2.4.0', samplesPerSecond: 25 } });
  assert.deepEqual(target, { vsPytorch: 2, pytorchAnchor: 'torch2_4_0' });
  assert.deepEqual(rows, [{ name: 'cnn-big pytorch 2.4.0', value: 25, unit: 'samples/s' }]);

  const none = await logOf({ engine: 50 });
  const empty: JsonObject = {};
  const untouched: JsonObject = {};
  const noRows: BenchRow[] = [];
  reportAgainstAnchors(none, ANCHORS, noRows, bigReport(none, empty, untouched));
  assert.deepEqual([empty, untouched, noRows], [{}, {}, []]);
});
