import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  REDIS_CASES,
  roundOrder,
  summariseRedisRounds,
  type RedisCase,
  type RedisRound,
} from './redis-bench-rounds.js';

test('the first three rounds are a Latin square: every case runs once in every position', () => {
  const orders = [0, 1, 2].map((r) => roundOrder(REDIS_CASES, r));
  assert.deepEqual(orders, [
    ['jsonl', 'redis', 'logged'],
    ['redis', 'logged', 'jsonl'],
    ['logged', 'jsonl', 'redis'],
  ]);
  for (let position = 0; position < 3; position++)
    assert.deepEqual(new Set(orders.map((o) => o[position])), new Set(REDIS_CASES));
});

test('six rounds are a Williams design: every case runs right after every other case exactly twice', () => {
  const follows = new Map<string, number>();
  for (let r = 0; r < 6; r++) {
    const o = roundOrder(REDIS_CASES, r);
    for (let i = 1; i < o.length; i++)
      follows.set(`${o[i - 1]}>${o[i]}`, (follows.get(`${o[i - 1]}>${o[i]}`) ?? 0) + 1);
  }
  assert.equal(follows.size, 6);
  for (const n of follows.values()) assert.equal(n, 2);
  assert.deepEqual(roundOrder(REDIS_CASES, 3), ['logged', 'redis', 'jsonl']);
  assert.deepEqual(roundOrder(REDIS_CASES, 6), roundOrder(REDIS_CASES, 0));
});

test('two cases alternate A B, B A (ABBA over two rounds) and a bad round number is refused', () => {
  assert.deepEqual(
    [0, 1, 2, 3].map((r) => roundOrder(['a', 'b'], r).join('')),
    ['ab', 'ba', 'ba', 'ab'],
  );
  assert.deepEqual(roundOrder([], 4), []);
  assert.throws(() => roundOrder(REDIS_CASES, -1), /round must be a non-negative integer, got -1/);
});

const round = (r: number, jsonl: number, redis: number, logged: number, quiet: boolean): RedisRound => ({
  round: r,
  order: roundOrder(REDIS_CASES, r),
  rates: { jsonl, redis, logged } satisfies Record<RedisCase, number>,
  othersCores: quiet ? 0.02 : 0.8,
  load1: 1,
  quiet,
});

test('ratios are taken within each round and the medians use only the quiet rounds when some were quiet', () => {
  // Round 1 ran while another process took most of a core: its figures must not count.
  const s = summariseRedisRounds([
    round(0, 20000, 18000, 19000, true),
    round(1, 9000, 3000, 9000, false),
    round(2, 22000, 20900, 21780, true),
    round(3, 21000, 19950, 20160, true),
  ]);
  assert.deepEqual(
    s.rows.map((r) => Number(r.ratio.toFixed(4))),
    [0.9, 0.3333, 0.95, 0.95],
  );
  assert.deepEqual(
    s.rows.map((r) => Number(r.loggerOverheadPercent.toFixed(4))),
    [5, 0, 1, 4],
  );
  assert.deepEqual(s.medians, { jsonl: 21000, redis: 19950, logged: 20160 });
  assert.ok(Math.abs(s.ratio - 0.95) < 1e-12);
  assert.ok(Math.abs(s.loggerOverheadPercent - 4) < 1e-9);
  assert.equal(s.roundsUsed, 3);
  assert.equal(s.quietOnly, true);
});

test('with no quiet round every round counts, and the per-round ratio median differs from the ratio of medians', () => {
  const s = summariseRedisRounds([round(0, 100, 90, 100, false), round(1, 200, 100, 150, false)]);
  assert.equal(s.quietOnly, false);
  assert.equal(s.roundsUsed, 2);
  assert.deepEqual(s.medians, { jsonl: 150, redis: 95, logged: 125 });
  assert.ok(Math.abs(s.ratio - 0.7) < 1e-12); // (0.9 + 0.5) / 2, not 95 / 150
  assert.ok(Math.abs(s.loggerOverheadPercent - 12.5) < 1e-9); // (0 + 25) / 2
});
