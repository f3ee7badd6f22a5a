import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBenchOptions } from './bench-options.js';
import { PROJECT_TORCH_SCRIPT } from './pytorch.bench.js';

test('--python is repeatable and alone selects the project script and the full comparison', () => {
  const o = parseBenchOptions(['--python', '/usr/bin/python3', '--python', '/home/u/torch-venv/bin/python', '--json']);
  assert.deepEqual(o.pythons, ['/usr/bin/python3', '/home/u/torch-venv/bin/python']);
  assert.equal(o.pytorch, PROJECT_TORCH_SCRIPT);
  assert.deepEqual(o.models, ['mlp', 'cnn']);
  assert.equal(o.ewc, true);
  assert.equal(o.online, true);
  assert.equal(o.big, false);
  assert.equal(o.backbone, false);
  assert.equal(o.io, false);
  assert.equal(o.json, true);
});

test("--pytorch without --python uses Debian's /usr/bin/python3; no PyTorch flag means no anchor", () => {
  const o = parseBenchOptions(['--pytorch', '../shared/bench/torch_speed.py', '--repeats', '5']);
  assert.equal(o.pytorch, '../shared/bench/torch_speed.py');
  assert.deepEqual(o.pythons, ['/usr/bin/python3']);
  assert.equal(o.repeats, 5);
  const plain = parseBenchOptions([]);
  assert.deepEqual(plain.pythons, []);
  assert.equal(plain.pytorch, undefined);
  assert.deepEqual(plain.models, ['mlp']);
  assert.equal(plain.online, false);
  assert.equal(parseBenchOptions(['--io']).io, true);
});

test('bad bench arguments fail with one line naming the argument', () => {
  assert.throws(() => parseBenchOptions(['--python']), /^Error: --python needs a value$/);
  assert.throws(() => parseBenchOptions(['--repeats', '0']), /--repeats must be a positive integer, got 0/);
  assert.throws(() => parseBenchOptions(['--fast']), /unknown argument --fast/);
});
