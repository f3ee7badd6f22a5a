import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeIdx, parseIdx } from './idx-reader.js';
import { parseCsvCells, parseJsonRecord } from './row-parsers.js';

const layout = { columns: 3, label: 2, features: [0, 1] };
const spec = { numClasses: 2 };

test('a csv cell beyond float32 range is a bad row naming its column, a value at the edge is kept exactly', () => {
  assert.deepEqual(parseCsvCells(['1e39', '0', '1'], layout, spec), { error: 'column 1 (1e+39) overflows float32' });
  assert.deepEqual(parseCsvCells(['0', '-1e300', '1'], layout, spec), {
    error: 'column 2 (-1e+300) overflows float32',
  });
  const row = parseCsvCells(['3.4e38', '-2.5', '1'], layout, spec);
  assert.ok('x' in row);
  assert.deepEqual([...row.x], [Math.fround(3.4e38), -2.5]);
});

test('a jsonl record beyond float32 range is a bad row', () => {
  const bad = parseJsonRecord({ x: [0, 1e39], y: 1 }, { features: 'x', label: 'y' }, 2, spec);
  assert.deepEqual(bad, { error: 'field "x"[1] (1e+39) overflows float32' });
});

test('an IDX float file holding NaN, Infinity or a double beyond float32 is refused with the value index', () => {
  assert.throws(() => parseIdx(encodeIdx([3], [1, Number.NaN, 2], 'float'), 'f.idx'), /f\.idx: value 1 \(NaN\)/);
  assert.throws(
    () => parseIdx(encodeIdx([2], [Infinity, 2], 'float'), 'f.idx'),
    /value 0 \(Infinity\) is not a finite/,
  );
  const double = Buffer.alloc(4 + 4 + 16);
  double[2] = 0x0e;
  double[3] = 1;
  double.writeUInt32BE(2, 4);
  double.writeDoubleBE(1.5, 8);
  double.writeDoubleBE(1e39, 16);
  assert.throws(() => parseIdx(double, 'd.idx'), /d\.idx: value 1 \(1e\+39\) is not a finite float32 number/);
  assert.deepEqual([...parseIdx(encodeIdx([2], [1.5, -2], 'float'), 'ok.idx').data], [1.5, -2]);
});
