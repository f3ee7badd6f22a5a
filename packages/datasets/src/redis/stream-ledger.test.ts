import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StreamLedger } from './stream-ledger.js';

const id = (i: number): string => `${1000 + i}-0`;

describe('StreamLedger', () => {
  it('numbers queued ids, lists those pulled, and drops the front a checkpoint acknowledged across front cuts', () => {
    const ledger = new StreamLedger();
    for (let i = 0; i < 10_000; i++) assert.equal(ledger.append(id(i)), i);
    assert.deepEqual(ledger.through(2), [id(0), id(1), id(2)]);
    let acked = 0;
    for (const upTo of [3000, 6000, 9000]) {
      const covered = ledger.through(upTo - 1);
      assert.equal(covered.length, upTo - acked);
      // a restored checkpoint's ids (never in this ledger) may come first
      assert.equal(ledger.acknowledge(['1-1', ...covered]), id(upTo - 1));
      acked = upTo;
      assert.equal(ledger.firstOrdinal, upTo);
      assert.deepEqual(ledger.through(upTo + 1), [id(upTo), id(upTo + 1)]);
    }
    assert.equal(ledger.append(id(10_000)), 10_000);
    assert.equal(ledger.unacked().length, 1001);
    assert.equal(ledger.acknowledge([id(9500)]), undefined, 'an id behind an unacknowledged one drops nothing');
    assert.equal(ledger.acknowledge(ledger.unacked()), id(10_000));
    assert.ok(ledger.empty);
  });

  it('knows the queued ids only while duplicates are looked for, and for good once asked to', () => {
    const ledger = new StreamLedger();
    ledger.append(id(0));
    assert.equal(ledger.has(id(0)), false, 'no set kept on the hot path');
    ledger.startDedupe();
    assert.equal(ledger.has(id(0)), true);
    ledger.append(id(1));
    assert.equal(ledger.has(id(1)), true);
    ledger.acknowledge([id(0)]);
    assert.equal(ledger.has(id(0)), false, 'acknowledged ids are no longer duplicates');
    ledger.endDedupe();
    assert.equal(ledger.has(id(1)), false);
    ledger.dedupeForGood();
    ledger.startDedupe();
    ledger.endDedupe();
    ledger.append(id(2));
    assert.equal(ledger.has(id(1)) && ledger.has(id(2)), true);
  });
});
