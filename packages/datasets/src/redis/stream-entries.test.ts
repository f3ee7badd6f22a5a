import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fieldsObject, fieldValue, parseEntries, readGroupEntries } from './stream-entries.js';

describe('stream entries', () => {
  it("keeps each entry's field array as the reply holds it and finds a field in it (the last one when repeated)", () => {
    const flat = ['data', '{"x":[1],"y":0}', 'other', 'v', 'data', 'second'];
    const [entry, deleted] = parseEntries([['1-0', flat], ['2-0', null], 'junk', [3, []]]);
    assert.equal(entry?.fields, flat, 'no copy per entry');
    assert.equal(fieldValue(entry, 'data'), 'second');
    assert.equal(fieldValue(entry, 'other'), 'v');
    assert.equal(fieldValue(entry, 'missing'), undefined);
    assert.deepEqual(deleted, { id: '2-0', fields: null });
    assert.equal(fieldValue(deleted, 'data'), undefined);
    assert.deepEqual(fieldsObject(entry), { data: 'second', other: 'v' });
  });

  it('reads the entries of an XREADGROUP reply, and none from a timed-out one', () => {
    assert.deepEqual(
      readGroupEntries([['s', [['5-1', ['data', 'a']]]]]).map((e) => [e.id, fieldValue(e, 'data')]),
      [['5-1', 'a']],
    );
    assert.deepEqual(readGroupEntries(null), []);
  });
});
