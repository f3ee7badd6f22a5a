import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { corePlugin, PipelineError, preparePipeline, runPipeline } from '@engram/core';
import { basePipeline } from './corpus.js';
import { reportCases } from './cases.js';

const here = dirname(fileURLToPath(import.meta.url));
const REMOVE = Symbol('remove');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every JSON pointer of `value` (objects and arrays included), as token lists. */
function pointers(value: Json, at: string[] = []): string[][] {
  const out: string[][] = [at];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...pointers(v, [...at, String(i)])));
  else if (value !== null && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) out.push(...pointers(v, [...at, k]));
  return out;
}

/** `doc` with the value at `path` replaced (or removed, or a new key `path` added). */
function mutate(doc: Json, path: readonly string[], value: Json | typeof REMOVE): Json {
  if (path.length === 0) return value === REMOVE ? {} : value;
  const copy = structuredClone(doc) as Record<string, Json> | Json[];
  let parent: Record<string, Json> | Json[] = copy;
  for (const token of path.slice(0, -1)) {
    const next = (parent as Record<string, Json>)[token];
    if (next === null || typeof next !== 'object') return copy;
    parent = next;
  }
  const last = path[path.length - 1] as string;
  if (value === REMOVE) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else (parent as Record<string, Json>)[last] = value;
  return copy;
}

const base = basePipeline() as Json;
const paths = pointers(base).filter((p) => p.length > 0 && p[0] !== 'plugins' && p[0] !== 'name');

/** Small values of every JSON type; numbers stay small so a valid mutant trains in about a second. */
const values: fc.Arbitrary<Json | typeof REMOVE> = fc.oneof(
  fc.constant(REMOVE),
  fc.integer({ min: -3, max: 40 }),
  fc.double({ min: -2, max: 2, noNaN: true }),
  fc.constantFrom('relu', 'adam', 'sgd', 'naive', 'ewc', 'class-incremental', 'dense', ''),
  fc.string({ maxLength: 6 }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
  fc.constant({}),
);

const mutation = fc.tuple(
  fc.constantFrom(...paths),
  fc.oneof(fc.constant<string | undefined>(undefined), fc.constantFrom('extra', 'kind', 'type', '0')),
  values,
);

test(
  'schema-derived mutants of a valid pipeline either run (or stop with a one-line error) or are refused with ' +
    'JSON-pointer problems',
  async (t) => {
    const out = mkdtempSync(join(tmpdir(), 'engram-props-'));
    const tally = { refused: 0, ran: 0, failedCleanly: 0 };
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
          let doc = base;
          for (const [path, added, value] of mutations)
            doc = mutate(doc, added === undefined ? path : [...path, added], value);
          let loaded;
          try {
            loaded = await preparePipeline(doc, join(out, 'p.json'), { resolveFrom: [here], builtins: [corePlugin] });
          } catch (e) {
            assert.ok(e instanceof PipelineError, `not a pipeline error: ${String(e)}`);
            assert.ok(e.problems.length > 0);
            for (const p of e.problems) {
              assert.ok(p.path === '' || p.path.startsWith('/'), `pointer ${p.path}`);
              assert.doesNotMatch(p.message, /\n/);
            }
            tally.refused++;
            return;
          }
          try {
            const { summary } = await runPipeline(loaded, {
              outDir: join(out, `run-${tally.ran + tally.failedCleanly}`),
              warn: () => undefined,
            });
            assert.ok(summary.status === 'completed', summary.status);
            tally.ran++;
          } catch (e) {
            // A runtime failure (what only the data reveals) is one line of our own, never a JavaScript fault.
            assert.ok(e instanceof Error, String(e));
            assert.ok(
              !(e instanceof TypeError || e instanceof RangeError || e instanceof ReferenceError),
              `${e.name}: ${e.message}`,
            );
            assert.doesNotMatch(e.message, /\n/, e.message);
            tally.failedCleanly++;
          }
        }),
        { seed: 20261202, numRuns: 120 },
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
    t.diagnostic(
      `mutants: ${tally.refused} refused, ${tally.ran} ran, ${tally.failedCleanly} stopped with a one-line error`,
    );
    // The generator must exercise both sides, or the property says little.
    assert.ok(tally.refused >= 20, JSON.stringify(tally));
    assert.ok(tally.ran >= 10, JSON.stringify(tally));
    reportCases('pipeline-properties', tally.refused + tally.ran + tally.failedCleanly);
  },
);
