import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REDACTED, redactSecrets } from './secret-redaction.js';

test('literal serve tokens and URL passwords are redacted in the stored copy; ${NAME} references and the original are kept', () => {
  const doc = {
    name: 'r',
    data: { kind: 'redis-stream', url: 'rediss://trainer:s3cret-Pw@redis.example:6380/2', stream: 'feed' },
    loggers: [{ kind: 'redis-stream', url: 'redis://:${REDIS_PASSWORD}@127.0.0.1:6379', stream: 'ev' }],
    serve: { port: 8080, token: 'literal-Token-123', metricsToken: '${ENGRAM_METRICS_TOKEN}' },
    training: { epochs: 2 },
  };
  const before = JSON.stringify(doc);
  const stored = redactSecrets(doc);
  assert.equal(JSON.stringify(doc), before, 'the document given is not changed');
  assert.equal(stored.serve.token, REDACTED);
  assert.equal(stored.serve.metricsToken, '${ENGRAM_METRICS_TOKEN}');
  assert.equal(stored.data.url, `rediss://trainer:${REDACTED}@redis.example:6380/2`);
  assert.equal(stored.loggers[0]?.url, 'redis://:${REDIS_PASSWORD}@127.0.0.1:6379');
  assert.equal(stored.training.epochs, 2);
  assert.ok(!JSON.stringify(stored).includes('s3cret-Pw') && !JSON.stringify(stored).includes('literal-Token-123'));
});

test('a token that mixes a reference with literal text is a secret; a pipeline without serve is unchanged', () => {
  assert.equal(redactSecrets({ serve: { token: 'x${ENGRAM_T}' } }).serve.token, REDACTED);
  assert.equal(redactSecrets({ serve: { token: '${A}${B}' } }).serve.token, '${A}${B}');
  const plain = { name: 'p', data: { kind: 'csv', path: 'http://example.org/d.csv' } };
  assert.deepEqual(redactSecrets(plain), plain);
});
