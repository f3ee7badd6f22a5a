import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deterministicSummary, finalDigest, runEngram, type Exit } from './e2e-harness.js';
import { patience } from '../testing/patience.js';

/** A tiny split-MNIST pipeline with a checkpoint every 2 batches (optionally a 2-unit head that grows, and model surgery). */
function pipeline(strategy: unknown, headUnits?: number, surgery: unknown[] = []): unknown {
  return {
    name: 'tiny',
    seed: 7,
    backend: 'cpu',
    plugins: ['@engram/datasets', '@engram/strategies'],
    data: {
      kind: 'mnist',
      scenario: { type: 'class-incremental', experiences: 3 },
      testFraction: 0.2,
      limitPerClass: 30,
    },
    model: {
      layers: [{ type: 'flatten' }, { type: 'dense', units: 16, activation: 'relu' }, { type: 'dropout', rate: 0.2 }],
      ...(headUnits ? { head: { units: headUnits } } : {}),
    },
    adjust: [{ kind: 'grow-head' }, ...surgery],
    optimizer: { type: 'adam', learningRate: 0.01 },
    strategy,
    training: { epochs: 2, batchSize: 8 },
    evaluation: { on: 'all', initial: true },
    checkpoint: { everyBatches: 2, keep: 3 },
  };
}

/** `runEngram` with the kill condition and signal as positional arguments. */
function run(
  file: string,
  out: string,
  extra: string[],
  killWhen?: (line: string) => boolean,
  signal: NodeJS.Signals = 'SIGKILL',
  env: NodeJS.ProcessEnv = process.env,
  onSpawn?: (child: ChildProcess) => void,
): Promise<Exit> {
  return runEngram(file, out, extra, {
    ...(killWhen ? { killWhen } : {}),
    signal,
    env,
    ...(onSpawn ? { onSpawn } : {}),
  });
}

const checkpointAt =
  (step: number) =>
  (line: string): boolean =>
    line.startsWith('{"type":"checkpoint"') && line.includes(`"step":${step},`);
const eventIs =
  (type: string, field: string) =>
  (line: string): boolean =>
    line.startsWith(`{"type":"${type}"`) && line.includes(field);

const surgery = [
  { kind: 'widen-layer', layers: ['l1_dense'], units: 24, noise: 0.01, fromExperience: 1 },
  { kind: 'insert-layer', after: 'l1_dense', fromExperience: 1 },
];

for (const [label, strategy, headUnits, adjust] of [
  ['naive', { kind: 'naive' }, undefined, []],
  ['naive, head grown by grow-head', { kind: 'naive' }, 2, []],
  ['replay', { kind: 'replay', bufferSize: 40 }, undefined, []],
  ['ewc', { kind: 'ewc', lambda: 100 }, undefined, []],
  [
    'ewc + lwf, hidden layer widened and deepened at experience 1',
    [{ kind: 'ewc', lambda: 100 }, { kind: 'lwf' }],
    undefined,
    surgery,
  ],
  ['icarl: exemplar sets, teacher, nearest-mean evaluation', { kind: 'icarl', bufferSize: 20 }, undefined, []],
] as const) {
  describe(`resume after SIGKILL (${label})`, () => {
    it('ends with the same summary metrics and bit-identical weights and optimizer state as an uninterrupted run', async () => {
      const work = mkdtempSync(join(tmpdir(), 'engram-resume-'));
      const file = join(work, 'p.pipeline.json');
      writeFileSync(file, JSON.stringify(pipeline(strategy, headUnits, [...adjust])));
      const reference = await run(file, join(work, 'ref'), []);
      assert.equal(reference.code, 0, reference.stderr);
      const out = join(work, 'killed');
      // inside experience 0, right after a checkpoint; at experience 1's end (evaluation running); mid-epoch of experience 2
      const kills = [
        checkpointAt(6),
        eventIs('experience-end', '"experience":1,'),
        eventIs('batch-end', '"experience":2,'),
      ];
      let first = true;
      for (const when of kills) {
        const r = await run(file, out, first ? [] : ['--resume'], when);
        assert.equal(r.signal, 'SIGKILL', `run was not killed: ${r.stderr}`);
        // a resumed run continues: its first checkpoint is later than a fresh run's (step 2)
        if (!first)
          assert.ok(
            (r.firstCheckpointStep ?? Infinity) > 2,
            `resumed run started over (first checkpoint at step ${r.firstCheckpointStep})`,
          );
        first = false;
      }
      const last = await run(file, out, ['--resume']);
      assert.equal(last.code, 0, last.stderr);
      assert.ok((last.firstCheckpointStep ?? Infinity) > 2);
      assert.deepEqual(deterministicSummary(out), deterministicSummary(join(work, 'ref')));
      assert.deepEqual(finalDigest(out), finalDigest(join(work, 'ref')));
    });
  });
}

describe('resume after SIGKILL during a checkpoint write', () => {
  it('keeps the previous checkpoint intact, leaves no partial one, and still ends bit-identical', async () => {
    const work = mkdtempSync(join(tmpdir(), 'engram-resume-write-'));
    const file = join(work, 'p.pipeline.json');
    writeFileSync(file, JSON.stringify(pipeline({ kind: 'replay', bufferSize: 40 })));
    const reference = await run(file, join(work, 'ref'), []);
    assert.equal(reference.code, 0, reference.stderr);
    const out = join(work, 'killed');
    const root = join(out, 'checkpoints');
    // The write of step 6 pauses between its data files and its manifest; kill it there.
    let child: ChildProcess | undefined;
    const partial = run(
      file,
      out,
      [],
      undefined,
      'SIGKILL',
      { ...process.env, ENGRAM_FAULT_CHECKPOINT_PAUSE: '6:5000' },
      (c) => {
        child = c;
      },
    );
    const tmpOf6 = (): string | undefined =>
      existsSync(root) ? readdirSync(root).find((n) => n.startsWith('.tmp-step-000000000006')) : undefined;
    const deadline = Date.now() + patience(60_000);
    while (!tmpOf6() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(tmpOf6(), 'the checkpoint write of step 6 started');
    child?.kill('SIGKILL');
    const killed = await partial;
    assert.equal(killed.signal, 'SIGKILL');
    const complete = readdirSync(root)
      .filter((n) => /^step-\d{12}$/.test(n))
      .sort();
    assert.deepEqual(complete, ['step-000000000002', 'step-000000000004'], 'no partial checkpoint became visible');
    const resumed = await run(file, out, ['--resume']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(deterministicSummary(out), deterministicSummary(join(work, 'ref')));
    assert.deepEqual(finalDigest(out), finalDigest(join(work, 'ref')));
  });
});

describe('engram run --resume (CLI behaviour)', () => {
  const setup = (): { work: string; file: string } => {
    const work = mkdtempSync(join(tmpdir(), 'engram-resume-cli-'));
    const file = join(work, 'p.pipeline.json');
    writeFileSync(file, JSON.stringify(pipeline({ kind: 'naive' })));
    return { work, file };
  };

  it('SIGTERM finishes the current batch, writes a checkpoint and exits 143', async () => {
    const { work, file } = setup();
    const r = await run(file, join(work, 'out'), [], checkpointAt(4), 'SIGTERM');
    assert.equal(r.code, 143, r.stderr);
    const root = join(work, 'out', 'checkpoints');
    const steps = readdirSync(root)
      .filter((n) => n.startsWith('step-'))
      .map((n) => Number(n.slice(5)));
    assert.ok(Math.max(...steps) >= 5, `a checkpoint after the signal (steps ${steps.join(',')})`);
  });

  it('exits 2 naming the changed section when the pipeline changed incompatibly', async () => {
    const { work, file } = setup();
    const out = join(work, 'out');
    await run(file, out, [], checkpointAt(4));
    const changed = pipeline({ kind: 'naive' }) as { model: { layers: unknown[] } };
    changed.model.layers = [{ type: 'flatten' }, { type: 'dense', units: 32, activation: 'relu' }];
    writeFileSync(file, JSON.stringify(changed));
    const r = await run(file, out, ['--resume']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /the pipeline changed since it was written \("model" differs\)/);
  });
});

describe('engram run --resume where there is nothing (left) to resume', () => {
  const setup = (): { work: string; file: string } => {
    const work = mkdtempSync(join(tmpdir(), 'engram-resume-none-'));
    const file = join(work, 'p.pipeline.json');
    writeFileSync(file, JSON.stringify(pipeline({ kind: 'naive' })));
    return { work, file };
  };

  it(
    'starts a new run, saying so in one line, when there is no checkpoint to resume (a supervisor may restart with ' +
      '--resume)',
    async () => {
      const { work, file } = setup();
      const r = await run(file, join(work, 'empty'), ['--resume']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /^warning: nothing to resume: no checkpoint in .*; starting a new run$/m);
      const summary = JSON.parse(readFileSync(join(work, 'empty', 'summary.json'), 'utf8')) as {
        status: string;
        accuracyMatrix: unknown[];
      };
      assert.equal(summary.status, 'completed');
      assert.equal(summary.accuracyMatrix.length, 3);
    },
  );

  it('resuming a finished run keeps its wall time', async () => {
    const { work, file } = setup();
    const out = join(work, 'done');
    assert.equal((await run(file, out, [])).code, 0);
    const before = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
      wallSeconds: number;
      accuracyMatrix: unknown;
    };
    const again = await run(file, out, ['--resume']);
    assert.equal(again.code, 0, again.stderr);
    const after = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
      wallSeconds: number;
      accuracyMatrix: unknown;
    };
    assert.deepEqual(after.accuracyMatrix, before.accuracyMatrix);
    assert.ok(
      after.wallSeconds >= before.wallSeconds * 0.5 && after.wallSeconds > 0.1,
      `wall time ${before.wallSeconds} s became ${after.wallSeconds} s`,
    );
  });
});

describe('SIGTERM, SIGINT and SIGHUP stop a run honestly', () => {
  it(
    'exit 143/130/129 with a checkpoint marked as a stop and summary.json "status": "stopped"; --resume ends ' +
      'bit-identical to an uninterrupted run',
    async () => {
      const work = mkdtempSync(join(tmpdir(), 'engram-signal-'));
      const file = join(work, 'p.pipeline.json');
      writeFileSync(file, JSON.stringify(pipeline({ kind: 'replay', bufferSize: 40 })));
      const reference = await run(file, join(work, 'ref'), []);
      assert.equal(reference.code, 0, reference.stderr);
      const out = join(work, 'stopped');
      // as the run starts (before the first batch); mid-epoch of experience 0; a closed terminal (SIGHUP)
      // after experience 1's first epoch; as experience 1 ends (SIGINT)
      const stops: Array<[(line: string) => boolean, NodeJS.Signals, number]> = [
        [(line) => line.startsWith('{"type":"run-start"'), 'SIGTERM', 143],
        [
          (line) => line.startsWith('{"type":"checkpoint"') && (JSON.parse(line) as { step: number }).step >= 8,
          'SIGTERM',
          143,
        ],
        [eventIs('epoch-end', '"experience":1,"epoch":0,'), 'SIGHUP', 129],
        [eventIs('experience-end', '"experience":1,'), 'SIGINT', 130],
      ];
      let first = true;
      for (const [when, signal, code] of stops) {
        const r = await run(file, out, first ? [] : ['--resume'], when, signal);
        first = false;
        assert.equal(r.code, code, `${signal}: ${r.stderr}`);
        const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
          status: string;
          stopped: string;
          averageAccuracy: number | null;
        };
        assert.equal(summary.status, 'stopped');
        assert.equal(summary.stopped, signal);
        assert.equal(summary.averageAccuracy, null, 'a stopped run reports no final accuracy');
        const newest =
          readdirSync(join(out, 'checkpoints'))
            .filter((n) => n.startsWith('step-'))
            .sort()
            .pop() ?? '';
        assert.equal(
          (JSON.parse(readFileSync(join(out, 'checkpoints', newest, 'run.json'), 'utf8')) as { reason: string }).reason,
          'signal',
        );
      }
      const last = await run(file, out, ['--resume']);
      assert.equal(last.code, 0, last.stderr);
      const strip = (s: Record<string, unknown>): Record<string, unknown> => {
        const { checkpoints: _c, ...rest } = s;
        return rest;
      };
      assert.deepEqual(strip(deterministicSummary(out)), strip(deterministicSummary(join(work, 'ref'))));
      assert.deepEqual(finalDigest(out), finalDigest(join(work, 'ref')));
    },
  );
});
