import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRedisBenchOptions } from './redis-bench-options.js';

test('bench:redis defaults to 100,000 records, batch 64, 32 features, 3 rounds and its own server', () => {
  assert.deepEqual(parseRedisBenchOptions([]), {
    records: 100000,
    batchSize: 64,
    features: 32,
    rounds: 3,
    backend: 'auto',
    json: false,
  });
});

test('bench:redis reads every option, --redis included', () => {
  const o = parseRedisBenchOptions([
    '--records',
    '500',
    '--batch',
    '32',
    '--features',
    '8',
    '--rounds',
    '6',
    '--redis',
    'redis://127.0.0.1:6380',
    '--backend',
    'cpu',
    '--json',
  ]);
  assert.deepEqual(o, {
    records: 500,
    batchSize: 32,
    features: 8,
    rounds: 6,
    backend: 'cpu',
    json: true,
    url: 'redis://127.0.0.1:6380',
  });
});

test('bad bench:redis arguments fail with one line naming the argument', () => {
  assert.throws(() => parseRedisBenchOptions(['--rounds', '0']), /^Error: --rounds must be a positive integer, got 0$/);
  assert.throws(() => parseRedisBenchOptions(['--records', '1.5']), /--records must be a positive integer, got 1.5/);
  assert.throws(() => parseRedisBenchOptions(['--redis']), /^Error: --redis needs a value$/);
  assert.throws(() => parseRedisBenchOptions(['--rounds', '--json']), /--rounds needs a value/);
  assert.throws(() => parseRedisBenchOptions(['--warmup']), /unknown argument --warmup/);
});
