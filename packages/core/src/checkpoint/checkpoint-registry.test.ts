import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SerializedState } from '../plugin-api/serialized-state.js';
import { CheckpointRegistry, MissingStateError } from './checkpoint-registry.js';

class Counter {
  value = 0;
  restored = 0;
  state(): SerializedState {
    return { meta: this.value };
  }
  restore(s: SerializedState): void {
    this.value = Number(s.meta);
    this.restored++;
  }
}

test('capture and restore walk the registered parts by JSON pointer', async () => {
  const registry = new CheckpointRegistry();
  const a = new Counter();
  const b = new Counter();
  registry.register('/strategy/0', a);
  registry.register('/optimizer', b, { afterExperienceStart: false });
  a.value = 3;
  b.value = 5;
  const states = await registry.capture();
  assert.deepEqual([...states.keys()], ['/strategy/0', '/optimizer']);
  a.value = 0;
  b.value = 0;
  await registry.restore(states);
  assert.deepEqual([a.value, b.value], [3, 5]);
  await registry.restore(states, 'after-experience-start');
  assert.deepEqual([a.restored, b.restored], [2, 1], 'the optimizer is restored once');
  assert.throws(() => registry.register('/optimizer', new Counter()), /registered twice/);
});

test('a required part missing from the checkpoint is an error naming its pointer; an optional one keeps its state', async () => {
  const registry = new CheckpointRegistry();
  const optional = new Counter();
  optional.value = 7;
  registry.register('/evaluation', optional, { optional: true });
  await registry.restore(new Map());
  assert.equal(optional.value, 7);
  registry.register('/preprocess/1', new Counter());
  await assert.rejects(
    registry.restore(new Map()),
    (e: unknown) => e instanceof MissingStateError && /no state for \/preprocess\/1/.test(e.message),
  );
});

test('checkpointed hooks get the state they were captured with; a failure is reported, not thrown', async () => {
  const registry = new CheckpointRegistry();
  const acked: unknown[] = [];
  registry.register('/data', { state: () => ({ meta: 41 }), checkpointed: (s) => void acked.push(s.meta) });
  registry.register('/stages/0', { state: () => ({}), checkpointed: () => Promise.reject(new Error('upstream down')) });
  const failures = await registry.checkpointed(await registry.capture());
  assert.deepEqual(acked, [41]);
  assert.deepEqual(failures, ['/stages/0: upstream down']);
});
