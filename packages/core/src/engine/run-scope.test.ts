import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inject, injectable } from 'inversify';
import { RunScope } from './run-scope.js';

test('a run scope releases what it owns in reverse order of acquisition, once', async () => {
  const scope = new RunScope();
  const released: string[] = [];
  for (const name of ['backend lease', 'event bus', 'optimizer', 'data source'])
    scope.own(name, name, (n) => void released.push(n));
  await scope.close();
  await scope.close();
  assert.deepEqual(released, ['data source', 'optimizer', 'event bus', 'backend lease']);
  assert.throws(() => scope.own('late', 1, () => undefined), /scope is closed; cannot acquire late/);
});

test('a release that fails does not keep the earlier ones from running, and its error is rethrown after them', async () => {
  const scope = new RunScope();
  const released: number[] = [];
  scope.own('first', 1, (n) => void released.push(n));
  scope.own('second', 2, async () => Promise.reject(new Error('source would not close')));
  scope.own('third', 3, (n) => void released.push(n));
  await assert.rejects(scope.close(), /source would not close/);
  assert.deepEqual(released, [3, 1]);
});

const COUNT = Symbol('count');

@injectable()
class Doubler {
  constructor(@inject(COUNT) readonly count: number) {}
  get doubled(): number {
    return this.count * 2;
  }
}

test('services a scope provides are injected into the classes it builds, stages come back in binding order, and both are released with it', async () => {
  const scope = new RunScope();
  let released = 0;
  scope.provide(COUNT, 21, (n) => void (released += n));
  const [doubler] = scope.build([Doubler]);
  assert.equal(doubler?.doubled, 42);
  const stages = Symbol('stages');
  scope.provideAll(stages, ['preprocess', 'train', 'evaluate']);
  assert.deepEqual(scope.resolveAll(stages), ['preprocess', 'train', 'evaluate']);
  await scope.close();
  assert.equal(released, 21);
});
