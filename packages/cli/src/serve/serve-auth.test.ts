import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PipelineError, type ServeSettings } from '@engram/core';
import { makeCertificates } from '@engram/datasets/testing';
import { BearerToken } from './serve-auth.js';
import { flagDoors, pipelineDoors, storedTokens } from './serve-doors.js';

test('a bearer token matches only "Bearer <the token>" (scheme case-insensitive), never a prefix, an extension or another scheme', () => {
  const t = new BearerToken('abc-123');
  assert.equal(t.matches('Bearer abc-123'), true);
  assert.equal(t.matches('bearer abc-123'), true);
  for (const wrong of [
    undefined,
    '',
    'Bearer',
    'Bearer ',
    'Bearer abc-12',
    'Bearer abc-1234',
    'Basic abc-123',
    'abc-123',
  ])
    assert.equal(t.matches(wrong), false, String(wrong));
});

const settings = (serve: Partial<ServeSettings>): ServeSettings => ({
  host: '127.0.0.1',
  port: 0,
  bodyLimit: 4096,
  maxInstances: 8,
  linger: false,
  feedback: { channel: 'default', ttlSeconds: 60, maxBytes: 1 << 20 },
  shadow: false,
  ...serve,
});

test('pipeline doors expand ${NAME} from the environment; an unset variable or a missing TLS file is a PipelineError at its pointer', () => {
  const doors = pipelineDoors(settings({ token: '${T}', metricsToken: 'm-${M}' }), '/tmp', { T: 'tok', M: 'x' });
  assert.equal(doors.token, 'tok');
  assert.equal(doors.metricsToken, 'm-x');
  assert.equal(doors.tls, undefined);
  assert.throws(
    () => pipelineDoors(settings({ token: '${ENGRAM_UNSET_T}' }), '/tmp', {}),
    (e: unknown) =>
      e instanceof PipelineError &&
      e.problems[0]?.path === '/serve/token' &&
      e.problems[0].message === 'environment variable ENGRAM_UNSET_T is not set',
  );
  assert.throws(
    () => pipelineDoors(settings({ tls: { key: 'none.key', cert: 'none.crt' } }), '/nonexistent-dir', {}),
    (e: unknown) =>
      e instanceof PipelineError &&
      e.problems[0]?.path === '/serve/tls/key' &&
      e.problems[0].message === 'cannot read /nonexistent-dir/none.key: ENOENT',
  );
});

test('engram serve flags: --token-env names a variable that must be set; --tls-key needs --tls-cert', () => {
  assert.deepEqual(flagDoors({ tokenEnv: 'TOK' }, { TOK: 'v' }), { token: 'v' });
  assert.throws(
    () => flagDoors({ tokenEnv: 'TOK' }, {}),
    /^Error: --token-env TOK: environment variable TOK is not set$/,
  );
  assert.throws(() => flagDoors({ tlsKey: 'k.pem' }, {}), /--tls-key and --tls-cert go together/);
});

test('a TLS key that does not match its certificate is a PipelineError at /serve/tls; a matching pair is read', () => {
  const certs = makeCertificates();
  try {
    const pair = pipelineDoors(settings({ tls: { key: 'server.key', cert: 'server.crt' } }), certs.dir, {});
    assert.match(pair.tls?.cert ?? '', /^-----BEGIN CERTIFICATE-----/);
    assert.throws(
      () => pipelineDoors(settings({ tls: { key: 'server.key', cert: 'other.crt' } }), certs.dir, {}),
      (e: unknown) =>
        e instanceof PipelineError &&
        e.problems[0]?.path === '/serve/tls' &&
        /cannot serve TLS \(.*key values mismatch\)/.test(e.problems[0].message),
    );
  } finally {
    certs.dispose();
  }
});

test('engram serve keeps a locked run locked: a stored ${NAME} is read again, a redacted literal token asks for the flag, flags win', () => {
  assert.deepEqual(storedTokens({ token: '${T}' }, {}, { T: 'v' }), { token: 'v' });
  assert.deepEqual(storedTokens({ token: '${T}' }, { tokenEnv: 'OTHER' }, { T: 'v' }), {});
  assert.deepEqual(storedTokens(undefined, {}, {}), {});
  assert.throws(() => storedTokens({ token: '[redacted]' }, {}, {}), /not stored: give --token-env NAME$/);
  assert.throws(
    () => storedTokens({ metricsToken: '${M}' }, {}, {}),
    /environment variable M is not set \(or give --metrics-token-env NAME\)$/,
  );
});
