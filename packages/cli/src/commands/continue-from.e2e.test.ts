import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deterministicSummary, finalDigest, MAIN, runEngram } from './e2e-harness.js';
import { patience } from '../testing/patience.js';
import { syntheticPipeline } from '../testing/synthetic-pipeline.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

interface Summary {
  accuracyMatrix: (number | null)[][];
  steps: number;
  warnings: number;
  numClasses: number;
  status: string;
}

const summary = (dir: string): Summary => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Summary;

/** The `warning` events of a run's metric history. */
const warnings = (dir: string): string[] =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; message?: string })
    .filter((e) => e.type === 'warning')
    .map((e) => e.message ?? '');

function engram(args: readonly string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, 'run', ...args, '--quiet'], {
    encoding: 'utf8',
    timeout: patience(240_000),
  });
  return { status: r.status, stderr: r.stderr };
}

function write(dir: string, name: string, doc: Record<string, unknown>): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

/** A small synthetic class-incremental pipeline (2 classes per experience) with checkpoints. */
function synthetic(
  name: string,
  data: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  // `extra` replaces whole sections (a csv `data` too), as it did before the shared helper.
  const doc = syntheticPipeline({
    name,
    seed: 3,
    data,
    optimizer: { type: 'adam', learningRate: 0.02 },
    strategy: [
      { kind: 'replay', bufferSize: 20 },
      { kind: 'ewc', lambda: 10 },
    ],
    training: { epochs: 4, batchSize: 16 },
    evaluation: { on: 'all', initial: false },
    checkpoint: { enabled: true },
  });
  return { ...doc, ...extra };
}

test(
  'split-MNIST class-IL with replay + EWC run as two invocations, the second --from the first, ends with one ' +
    "5-experience run's accuracy matrix and weights, bit for bit",
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'engram-continue-'));
    const shrink = (file: string, name: string, only: Record<string, number> | undefined): string => {
      const doc = JSON.parse(readFileSync(join(root, 'examples', 'continue', file), 'utf8')) as Record<
        string,
        unknown
      > & { data: { scenario: Record<string, unknown> } };
      delete doc['$schema'];
      doc['name'] = name;
      doc['model'] = { layers: [{ type: 'dense', units: 32, activation: 'relu', name: 'hidden1' }] };
      doc['training'] = { iterations: 8, batchSize: 64 };
      doc['strategy'] = [
        { kind: 'replay', bufferSize: 100 },
        { kind: 'ewc', lambda: 1000 },
      ];
      if (only === undefined) delete doc.data.scenario['only'];
      else doc.data.scenario['only'] = only;
      return write(dir, name, doc);
    };
    const day1 = engram([shrink('day-1.pipeline.json', 'day1', { first: 0, last: 1 }), '--out', join(dir, 'day1')]);
    assert.equal(day1.status, 0, day1.stderr);
    const day2 = engram([
      shrink('day-2.pipeline.json', 'day2', { first: 2 }),
      '--from',
      join(dir, 'day1'),
      '--out',
      join(dir, 'day2'),
    ]);
    assert.equal(day2.status, 0, day2.stderr);
    assert.match(day2.stderr, /continuing run "day1" from .*day1\/checkpoints\/step-000000000016 \(step 16\)/);
    const one = engram([shrink('day-1.pipeline.json', 'one', undefined), '--out', join(dir, 'one')]);
    assert.equal(one.status, 0, one.stderr);
    const split = summary(join(dir, 'day2'));
    const whole = summary(join(dir, 'one'));
    assert.equal(split.accuracyMatrix.length, 5);
    assert.ok(split.accuracyMatrix.every((row) => row.length === 5 && row.every((v) => typeof v === 'number')));
    assert.deepEqual(split.accuracyMatrix, whole.accuracyMatrix);
    assert.equal(split.steps, whole.steps);
    assert.equal(finalDigest(join(dir, 'day2')).weights, finalDigest(join(dir, 'one')).weights);
    // Day 1 alone knew all five test sets (its `only` leaves them evaluate-only) and trained on two.
    assert.deepEqual(summary(join(dir, 'day1')).accuracyMatrix, whole.accuracyMatrix.slice(0, 2));
  },
);

test(
  'a strategy the earlier run had and this one has not is dropped with a warning, a new one starts fresh, and ' +
    'steps and matrix rows continue',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'engram-continue-'));
    assert.equal(engram([write(dir, 'a', synthetic('a')), '--out', join(dir, 'a')]).status, 0);
    const b = engram([
      write(
        dir,
        'b',
        synthetic(
          'b',
          {},
          {
            strategy: [
              { kind: 'lwf', alpha: 1 },
              { kind: 'replay', bufferSize: 20 },
            ],
          },
        ),
      ),
      '--from',
      join(dir, 'a'),
      '--out',
      join(dir, 'b'),
    ]);
    assert.equal(b.status, 0, b.stderr);
    const s = summary(join(dir, 'b'));
    const said = warnings(join(dir, 'b'));
    assert.deepEqual(
      said,
      [
        'strategy lwf (/strategy/0) is new in this run: it starts fresh',
        "the earlier run's strategy ewc (/strategy/1) is not in this pipeline: its state is dropped",
      ],
      'replay moved from /strategy/0 to /strategy/1 and kept its memory: nothing said about it',
    );
    assert.equal(s.warnings, 2);
    // The same data numbered from 0 again: its experiences become 2 and 3, after a's 0 and 1.
    assert.equal(s.accuracyMatrix.length, 4);
    assert.deepEqual(
      s.accuracyMatrix.slice(0, 2).map((row) => row.slice(0, 2)),
      summary(join(dir, 'a')).accuracyMatrix,
    );
    assert.equal(s.steps, 2 * summary(join(dir, 'a')).steps);
  },
);

test("continuing with other model.layers warns that the earlier run's architecture is used, and trains it", () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-continue-'));
  assert.equal(engram([write(dir, 'a', synthetic('a')), '--out', join(dir, 'a')]).status, 0);
  const wider = synthetic('b', {}, { model: { layers: [{ type: 'dense', units: 24, activation: 'relu' }] } });
  const b = engram([write(dir, 'b', wider), '--from', join(dir, 'a'), '--out', join(dir, 'b')]);
  assert.equal(b.status, 0, b.stderr);
  const said = warnings(join(dir, 'b'));
  assert.equal(said.length, 1, said.join('\n'));
  assert.equal(
    said[0]?.replace(/step-\d{12}/, 'step-N'),
    `this pipeline's "model" differs from the earlier run's (${join(dir, 'a', 'checkpoints', 'step-N')}): the earlier run's architecture and weights are used (change it with "adjust" surgery, or start without --from to train this one)`,
  );
  const same = engram([write(dir, 'c', synthetic('c')), '--from', join(dir, 'a'), '--out', join(dir, 'c')]);
  assert.equal(same.status, 0, same.stderr);
  assert.deepEqual(warnings(join(dir, 'c')), [], 'the same model: nothing to say');
});

test(
  'continuing with data of another input shape, or more classes than the head without grow-head, exits 2 naming ' +
    'the pipeline field',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'engram-continue-'));
    assert.equal(engram([write(dir, 'a', synthetic('a')), '--out', join(dir, 'a')]).status, 0);
    const shape = engram([
      write(dir, 'b', synthetic('b', { features: 6 })),
      '--from',
      join(dir, 'a'),
      '--out',
      join(dir, 'b'),
    ]);
    assert.equal(shape.status, 2, shape.stderr);
    assert.match(
      shape.stderr,
      /\/data: the earlier run's model \(.*\) takes inputs of shape \[8\], this pipeline's data \(after preprocess\) has \[6\]/,
    );
    const classes = engram([
      write(dir, 'c', synthetic('c', { numClasses: 6 })),
      '--from',
      join(dir, 'a'),
      '--out',
      join(dir, 'c'),
    ]);
    assert.equal(classes.status, 2, classes.stderr);
    assert.match(
      classes.stderr,
      /\/adjust: the data has 6 classes and the earlier run's head 4 outputs; add \{ "kind": "grow-head" \} to grow it/,
    );
    const grown = engram([
      write(dir, 'd', synthetic('d', { numClasses: 6 }, { adjust: [{ kind: 'grow-head' }] })),
      '--from',
      join(dir, 'a'),
      '--out',
      join(dir, 'd'),
    ]);
    assert.equal(grown.status, 0, grown.stderr);
    const s = summary(join(dir, 'd'));
    assert.equal(s.accuracyMatrix.length, 5, 'a 0-1, d 2-4');
    assert.equal(s.accuracyMatrix[4]?.length, 5);
    const none = engram([write(dir, 'e', synthetic('e')), '--from', join(dir, 'nowhere'), '--out', join(dir, 'e')]);
    assert.equal(none.status, 2, none.stderr);
    assert.match(none.stderr, /cannot continue from .*nowhere: it holds no checkpoint/);
  },
);

test(
  "a chain of three runs (continueFrom in the pipeline) evaluates on every earlier run's test sets, rebuilt from " +
    'their own data definitions',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'engram-continue-'));
    assert.equal(engram([write(dir, 'a', synthetic('a')), '--out', join(dir, 'a')]).status, 0);
    assert.equal(
      engram([write(dir, 'b', synthetic('b', { numClasses: 2 }, { continueFrom: 'a' })), '--out', join(dir, 'b')])
        .status,
      0,
    );
    const c = engram([
      write(dir, 'c', synthetic('c', { numClasses: 2, spread: 0.5 }, { continueFrom: 'b' })),
      '--out',
      join(dir, 'c'),
    ]);
    assert.equal(c.status, 0, c.stderr);
    const s = summary(join(dir, 'c'));
    // a: experiences 0-1, b: 2, c: 3; c's last row evaluates all four test sets.
    assert.equal(s.accuracyMatrix.length, 4);
    assert.ok(
      s.accuracyMatrix[3]?.every((v) => typeof v === 'number' && v >= 0 && v <= 1),
      JSON.stringify(s.accuracyMatrix),
    );
    assert.deepEqual(
      s.accuracyMatrix.slice(0, 3).map((row) => row.slice(0, 3)),
      summary(join(dir, 'b')).accuracyMatrix,
    );
    const events = readFileSync(join(dir, 'c', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; seq: number; continuedFrom?: { dir: string } });
    assert.deepEqual(
      events.map((e) => e.seq),
      events.map((_, i) => i),
      'one history, numbered without gaps',
    );
    assert.deepEqual(
      events.filter((e) => e.type === 'run-start').map((e) => e.continuedFrom?.dir.includes(`${dir}/b/`) ?? null),
      [null, false, true],
    );
  },
);

test("an earlier run whose data file is gone is said once, and its columns stay null while this run's are filled", () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-continue-'));
  const csv = join(dir, 'blobs.csv');
  writeFileSync(csv, readFileSync(join(root, 'examples', 'data', 'blobs.csv')));
  const csvData = {
    kind: 'csv',
    path: 'blobs.csv',
    header: true,
    labelColumn: 'colour',
    featureColumns: ['length', 'width', 'height', 'weight'],
    labels: ['red', 'green', 'blue'],
    scenario: { type: 'class-incremental', experiences: 3, only: { first: 0, last: 1 } },
    testFraction: 0.2,
  };
  const a = engram([write(dir, 'a', synthetic('a', {}, { data: csvData })), '--out', join(dir, 'a')]);
  assert.equal(a.status, 0, a.stderr);
  writeFileSync(csv, ''); // emptied: the earlier data cannot be rebuilt
  const b = engram([
    write(
      dir,
      'b',
      synthetic('b', { numClasses: 3, features: 4, scenario: { type: 'class-incremental', classesPerExperience: 1 } }),
    ),
    '--from',
    join(dir, 'a'),
    '--out',
    join(dir, 'b'),
  ]);
  assert.equal(b.status, 0, b.stderr);
  const said = warnings(join(dir, 'b')).filter((w) => w.includes('cannot be read any more'));
  assert.equal(said.length, 1, said.join('\n'));
  assert.match(said[0] ?? '', /the data of the earlier run "a" cannot be read any more/);
  const m = summary(join(dir, 'b')).accuracyMatrix;
  // a trained 0-1; b's three experiences are 2-4; a's test sets (0, 1, and its evaluate-only 2) are gone
  assert.equal(m.length, 5);
  assert.deepEqual(m[4]?.slice(0, 2), [null, null]);
  assert.ok(
    m[4]?.slice(2).every((v) => typeof v === 'number'),
    JSON.stringify(m),
  );
});

test('a run started --from another, killed and resumed, ends bit-identical to the same continuation uninterrupted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-continue-'));
  assert.equal(engram([write(dir, 'a', synthetic('a')), '--out', join(dir, 'a')]).status, 0);
  const b = write(dir, 'b', synthetic('b', {}, { continueFrom: 'a', checkpoint: { everyBatches: 3, keep: 2 } }));
  assert.equal(engram([b, '--out', join(dir, 'ref')]).status, 0);
  // a trained 32 steps; kill b at its first checkpoint past step 40 (inside its first experience)
  const past40 = (line: string): boolean =>
    line.startsWith('{"type":"checkpoint"') && (JSON.parse(line) as { step: number }).step > 40;
  const killed = await runEngram(b, join(dir, 'b'), [], { killWhen: past40 });
  assert.equal(killed.signal, 'SIGKILL', killed.stderr);
  const resumed = await runEngram(b, join(dir, 'b'), ['--resume']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.ok((resumed.firstCheckpointStep ?? 0) > 41, `resumed at ${resumed.firstCheckpointStep}`);
  const strip = (d: string): Record<string, unknown> => {
    const { checkpoints: _c, ...rest } = deterministicSummary(d);
    return rest;
  };
  assert.deepEqual(strip(join(dir, 'b')), strip(join(dir, 'ref')));
  assert.deepEqual(finalDigest(join(dir, 'b')).weights, finalDigest(join(dir, 'ref')).weights);
  assert.equal(summary(join(dir, 'b')).accuracyMatrix.length, 4, "a's rows, then b's");
});
