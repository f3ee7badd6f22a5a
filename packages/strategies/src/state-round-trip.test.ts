import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { EngramModel, Experience, JsonValue, SerializedState, StateArray, Strategy, TObject } from '@engram/core';
import { descriptors } from './index.js';
import { experienceContext, experienceOf, infoOf, randomBatch, services, tinyMlp } from './testing/fixtures.js';
import { trainWithHooks } from './testing/mini-trainer.js';

await tf.setBackend('cpu');

/** Defaults of a TypeBox object schema, as the pipeline validator would apply them. */
function defaults(schema: TObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, p] of Object.entries(schema.properties))
    if ('default' in p) out[k] = (p as { default: unknown }).default;
  return out;
}

const small: Record<string, unknown> = { bufferSize: 24, fisherSamples: 20, samples: 20, sampleSize: 8 };

function make(kind: string): Strategy {
  const d = descriptors.find((x) => x.role === 'strategy' && x.kind === kind);
  if (!d?.create) throw new Error(kind);
  const all = defaults(d.options);
  for (const k of Object.keys(small)) if (k in d.options.properties) all[k] = small[k];
  return d.create(all, services(42)) as Strategy;
}

/** What a checkpoint does: meta through JSON, arrays through their raw bytes. */
function throughCheckpoint(s: SerializedState): SerializedState {
  const arrays: Record<string, StateArray> = {};
  for (const [k, a] of Object.entries(s.arrays ?? {})) {
    const bytes = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength).slice();
    arrays[k] = {
      dtype: a.dtype,
      shape: [...a.shape],
      data: a.dtype === 'float32' ? new Float32Array(bytes.buffer) : new Int32Array(bytes.buffer),
    };
  }
  return { meta: JSON.parse(JSON.stringify(s.meta ?? null)) as JsonValue, arrays };
}

function weightsOf(model: EngramModel): number[][] {
  return model.trainableVariables().map((v) => Array.from(v.dataSync()));
}

const kinds = descriptors.filter((d) => d.role === 'strategy').map((d) => d.kind);

test('the catalogue registers every strategy of issues 3 and 15', () => {
  for (const k of [
    'naive',
    'joint',
    'cumulative',
    'ewc',
    'online-ewc',
    'si',
    'mas',
    'lwf',
    'replay',
    'agem',
    'derpp',
    'gdumb',
    'hedge',
    'er-ace',
    'icarl',
  ]) {
    assert.ok(kinds.includes(k), k);
  }
});

for (const kind of kinds) {
  test(`${kind}: state()/restore() round-trips exactly and the restored strategy continues identically, leaking no tensors`, async () => {
    const before = tf.memory().numTensors;
    const info = infoOf(4, 6);
    const e = [0, 1, 2].map((i) => experienceOf(i, randomBatch(40, 4, [2 * i, 2 * i + 1], 100 + i)));
    const a = make(kind);
    let m1: EngramModel = await trainWithHooks([a], tinyMlp(4, [6, 6], 6, 8), e.slice(0, 2), info, { batchSize: 8 });
    const saved = a.state ? await a.state() : { meta: null };
    const b = make(kind);
    await b.restore?.(throughCheckpoint(saved));
    const again = b.state ? await b.state() : { meta: null };
    assert.deepEqual(again, saved);
    // a twin model with the same weights, continued by the restored strategy
    let m2: EngramModel = tinyMlp(4, [6, 6], 6, 8);
    if (m1.network !== m2.network && m1.trainableVariables().length !== m2.trainableVariables().length) {
      // hedge: the restored strategy wraps the twin on its first adaptModel; copy after wrapping
      m2 = (await b.adaptModel?.(experienceContext(m2, e[2] as Experience, info))) ?? m2;
    }
    m2.trainableVariables().forEach((v, i) => v.assign(m1.trainableVariables()[i]!));
    m1 = await trainWithHooks([a], m1, e.slice(2), info, { batchSize: 8 });
    m2 = await trainWithHooks([b], m2, e.slice(2), info, { batchSize: 8 });
    assert.deepEqual(weightsOf(m2), weightsOf(m1));
    a.dispose?.();
    b.dispose?.();
    m1.dispose();
    m2.dispose();
    assert.equal(tf.memory().numTensors, before);
  });
}
