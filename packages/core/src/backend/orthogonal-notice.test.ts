import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { silenceOrthogonalNotice } from './orthogonal-notice.js';

/** Runs `fn` with console.warn recording what it is given. */
function warnings(fn: () => void): string[] {
  const seen: string[] = [];
  const warn = console.warn;
  console.warn = (...parts: unknown[]): void => void seen.push(parts.map(String).join(' '));
  try {
    fn();
  } finally {
    console.warn = warn;
  }
  return seen;
}

const initialise = (): void => tf.dispose(tf.initializers.orthogonal({ seed: 3 }).apply([64, 192]));

test('an orthogonal matrix over 2,000 values is initialised without tfjs’ notice, the same values, and other warnings still pass', () => {
  const before = tf.memory().numTensors;
  const notices = (lines: string[]): string[] => lines.filter((l) => l.includes('Orthogonal initializer'));
  const loud = notices(warnings(initialise));
  assert.equal(loud.length, 1, 'tfjs prints its notice without the silencer');
  assert.match(loud[0] ?? '', /Orthogonal initializer is being called on a matrix with more than 2000/);
  const reference = tf.initializers.orthogonal({ seed: 3 }).apply([64, 192]);
  silenceOrthogonalNotice();
  silenceOrthogonalNotice();
  assert.deepEqual(notices(warnings(initialise)), []);
  const quiet = tf.initializers.orthogonal({ seed: 3 }).apply([64, 192]);
  assert.deepEqual(quiet.dataSync(), reference.dataSync(), 'the same initial values');
  tf.dispose([reference, quiet]);
  assert.deepEqual(
    warnings(() => console.warn('another warning')),
    ['another warning'],
  );
  assert.equal(tf.memory().numTensors, before);
});
