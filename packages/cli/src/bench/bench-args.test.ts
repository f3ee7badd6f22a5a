import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBenchArgs } from './bench-args.js';

const SPEC = { flags: ['--json', '--smoke'], valued: ['--rounds', '--python', '--seconds'] };

test('bench arguments split into flags and valued options, repeated values kept in order, the last one read', () => {
  const a = parseBenchArgs(['--json', '--python', '/a', '--rounds', '4', '--python', '/b'], SPEC);
  assert.deepEqual([...a.flags], ['--json']);
  assert.deepEqual(a.values.get('--python'), ['/a', '/b']);
  assert.equal(a.value('--python'), '/b');
  assert.equal(a.positiveInt('--rounds', 3), 4);
  assert.equal(a.positiveInt('--seconds', 7), 7, 'absent: the fallback');
});

test('an unknown argument, a missing value and a non-positive or fractional count are one-line errors', () => {
  assert.throws(() => parseBenchArgs(['--fast'], SPEC), /^Error: unknown argument --fast$/);
  assert.throws(() => parseBenchArgs(['--rounds'], SPEC), /--rounds needs a value/);
  assert.throws(() => parseBenchArgs(['--rounds', '--json'], SPEC), /--rounds needs a value/);
  assert.throws(
    () => parseBenchArgs(['--rounds', '0'], SPEC).positiveInt('--rounds', 3),
    /--rounds must be a positive integer, got 0/,
  );
  assert.throws(
    () => parseBenchArgs(['--rounds', '2.5'], SPEC).positiveInt('--rounds', 3),
    /positive integer, got 2.5/,
  );
  assert.equal(parseBenchArgs(['--seconds', '2.5'], SPEC).positiveNumber('--seconds', 5), 2.5);
  assert.throws(
    () => parseBenchArgs(['--seconds', 'x'], SPEC).positiveNumber('--seconds', 5),
    /--seconds must be a positive number, got x/,
  );
});
