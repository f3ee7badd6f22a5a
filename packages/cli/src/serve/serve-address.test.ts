import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseServeAddress } from './serve-address.js';

test('--serve takes PORT (loopback by default), HOST:PORT and [IPv6]:PORT, and refuses anything else in one line', () => {
  assert.deepEqual(parseServeAddress('8080'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseServeAddress('0.0.0.0:9000'), { host: '0.0.0.0', port: 9000 });
  assert.deepEqual(parseServeAddress('[::1]:0'), { host: '::1', port: 0 });
  assert.deepEqual(parseServeAddress('localhost:81', '10.0.0.1'), { host: 'localhost', port: 81 });
  assert.deepEqual(parseServeAddress('81', '10.0.0.1'), { host: '10.0.0.1', port: 81 });
  for (const bad of ['', 'http://x:80', '70000', 'host:', ':80', 'a b:1'])
    assert.throws(() => parseServeAddress(bad), /--serve expects \[HOST:\]PORT/);
});
