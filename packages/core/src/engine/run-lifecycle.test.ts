import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import type { EngramEvent } from '../events/engram-event.js';
import { FIXTURE_PLUGIN, fixtureDocument, loadFixture } from '../testing/fixture-pipeline.js';
import { probeLog } from '../testing/fixture.plugin.js';
import { runPipeline } from './engine.js';
import type { RunOutcome } from './run-options.js';

const out = (): string => mkdtempSync(join(tmpdir(), 'engram-lifecycle-'));
const here = dirname(fileURLToPath(import.meta.url));

const doc = (overrides: Record<string, unknown> = {}): Record<string, unknown> =>
  fixtureDocument({
    model: {
      layers: [
        { type: 'dense', units: 16, activation: 'relu' },
        { type: 'dropout', rate: 0.2 },
      ],
    },
    training: { epochs: 2, batchSize: 16, logEvery: 1 },
    checkpoint: { enabled: true, everyBatches: 3, keep: 3 },
    ...overrides,
  });

interface Summary {
  status: string;
  error: string | null;
  stopped: string | null;
  averageAccuracy: number | null;
  accuracyMatrix: unknown;
  warnings: number;
  outputs: Record<string, unknown>;
}
const summaryOf = (dir: string): Summary => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Summary;
const eventsOf = (dir: string): EngramEvent[] =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as EngramEvent);
const deterministic = (o: RunOutcome): unknown => ({
  m: o.summary.accuracyMatrix,
  l: o.summary.loss,
  s: o.summary.steps,
  n: o.summary.trainSamples,
  p: o.summary.perExperience.map((e) => [e.samples, e.loss]),
  q: o.summary.prequential,
});

/** Runs `document`, aborting with SIGTERM at the first event `stopWhen` accepts. */
async function runStopping(
  document: Record<string, unknown>,
  dir: string,
  stopWhen?: (e: EngramEvent) => boolean,
  resume = false,
): Promise<RunOutcome> {
  const controller = new AbortController();
  return runPipeline(await loadFixture(document), {
    outDir: dir,
    signal: controller.signal,
    ...(resume ? { resume: true } : {}),
    observe: (events$) =>
      events$.subscribe((e) => {
        if (stopWhen?.(e) && !controller.signal.aborted) controller.abort('SIGTERM');
      }),
  });
}

test(
  'a signal stops a run at a batch boundary wherever it lands — before the first experience, mid-epoch, between ' +
    'epochs, between experiences — and the resume ends as the uninterrupted run',
  async () => {
    await tf.setBackend('cpu');
    const reference = await runStopping(doc(), out());
    const moments: Array<[string, (e: EngramEvent) => boolean]> = [
      ['before experience 0', (e) => e.type === 'evaluation' && e.afterExperience === -1],
      ['mid-epoch', (e) => e.type === 'batch-end' && e.step === 2],
      ['between epochs', (e) => e.type === 'epoch-end' && e.experience === 0 && e.epoch === 0],
      ['between experiences', (e) => e.type === 'experience-end' && e.experience === 0],
    ];
    for (const [label, when] of moments) {
      const dir = out();
      const stopped = await runStopping(doc(), dir, when);
      assert.equal(stopped.stopped, 'SIGTERM', label);
      const s = summaryOf(dir);
      assert.equal(s.status, 'stopped', label);
      assert.equal(s.averageAccuracy, null, `${label}: a stopped run reports no final accuracy`);
      const root = join(dir, 'checkpoints');
      const newest =
        readdirSync(root)
          .filter((n) => n.startsWith('step-'))
          .sort()
          .pop() ?? '';
      assert.equal(
        (JSON.parse(readFileSync(join(root, newest, 'run.json'), 'utf8')) as { reason: string }).reason,
        'signal',
        label,
      );
      const resumed = await runStopping(doc(), dir, undefined, true);
      assert.deepEqual(deterministic(resumed), deterministic(reference), label);
      assert.equal(summaryOf(dir).status, 'completed', label);
      const seqs = eventsOf(dir).map((e) => e.seq);
      assert.deepEqual(
        seqs,
        seqs.map((_, i) => i),
        `${label}: one uninterrupted history`,
      );
      assert.equal(
        eventsOf(dir).filter((e) => e.type === 'experience-start').length,
        2,
        `${label}: no experience starts twice`,
      );
      assert.equal(eventsOf(dir).filter((e) => e.type === 'epoch-start').length, 4, `${label}: no epoch starts twice`);
    }
  },
);

test('a stream stopped by a signal checkpoints as a stop, not as the end, and resumes to the uninterrupted result', async () => {
  await tf.setBackend('cpu');
  const stream = doc({
    data: { kind: 'blobs', classes: 4, features: 8, endless: true },
    training: { batchSize: 8, maxSamples: 480, logEvery: 5 },
    evaluation: { initial: false },
    checkpoint: { enabled: true, everyBatches: 7, keep: 2 },
  });
  const reference = await runStopping(stream, out());
  const dir = out();
  const stopped = await runStopping(stream, dir, (e) => e.type === 'prequential' && e.step >= 20);
  assert.equal(stopped.stopped, 'SIGTERM');
  const root = join(dir, 'checkpoints');
  const newest =
    readdirSync(root)
      .filter((n) => n.startsWith('step-'))
      .sort()
      .pop() ?? '';
  assert.equal(
    (JSON.parse(readFileSync(join(root, newest, 'run.json'), 'utf8')) as { reason: string }).reason,
    'signal',
  );
  assert.ok(stopped.summary.trainSamples < 480);
  const resumed = await runStopping(stream, dir, undefined, true);
  assert.equal(resumed.summary.trainSamples, 480);
  assert.deepEqual(deterministic(resumed), deterministic(reference));
});

test(
  'a failing run still writes summary.json with status "failed" and its one-line cause, closes its loggers and ' +
    'completes the event stream',
  async () => {
    probeLog.length = 0;
    const dir = out();
    let completed = false;
    const loaded = await loadFixture(
      doc({ stages: [{ kind: 'fail', atStep: 4 }], loggers: [{ kind: 'probe', label: 'a' }] }),
    );
    await assert.rejects(
      runPipeline(loaded, {
        outDir: dir,
        observe: (events$) => events$.subscribe({ complete: () => (completed = true) }),
      }),
      /stage failed at step 4/,
    );
    const s = summaryOf(dir);
    assert.equal(s.status, 'failed');
    assert.equal(s.error, 'stage "fail" (/stages/0): stage failed at step 4', 'named by its kind and pointer');
    const last = eventsOf(dir).at(-1);
    assert.equal(last?.type, 'run-end');
    assert.ok(completed, 'the event stream completed');
    assert.deepEqual(probeLog, ['a:attach', 'a:close', 'a:complete']);
  },
);

test('a logger or observer that throws becomes a warning event and the run completes', async () => {
  const reference = await runStopping(doc(), out());
  for (const throwOn of ['attach', 'event', 'close']) {
    probeLog.length = 0;
    const dir = out();
    const outcome = await runPipeline(await loadFixture(doc({ loggers: [{ kind: 'probe', label: 'b', throwOn }] })), {
      outDir: dir,
      observe: (events$) =>
        events$.subscribe((e) => {
          if (e.type === 'epoch-end') throw new Error('observer broke');
        }),
    });
    assert.deepEqual(outcome.summary.accuracyMatrix, reference.summary.accuracyMatrix, throwOn);
    const warnings = eventsOf(dir)
      .filter((e): e is Extract<EngramEvent, { type: 'warning' }> => e.type === 'warning')
      .map((e) => e.message);
    assert.ok(
      warnings.some((m) => /an observer of the run failed: observer broke/.test(m)),
      `${throwOn}: ${warnings.join(' | ')}`,
    );
    assert.ok(
      warnings.some((m) => new RegExp(`probe ${throwOn} failed`).test(m)),
      `${throwOn}: ${warnings.join(' | ')}`,
    );
    assert.equal(summaryOf(dir).status, 'completed');
  }
});

test('a plugin stage placed after train counts batches into the outputs, and its count survives a resume', async () => {
  const staged = doc({ stages: [{ kind: 'count', after: 'train' }] });
  const dir = out();
  const full = await runStopping(staged, dir);
  assert.deepEqual(full.summary.outputs, { count: { batches: 20 } });
  assert.deepEqual(summaryOf(dir).outputs, { count: { batches: 20 } });
  const stoppedDir = out();
  await runStopping(staged, stoppedDir, (e) => e.type === 'batch-end' && e.step === 7);
  const resumed = await runStopping(staged, stoppedDir, undefined, true);
  assert.deepEqual(resumed.summary.outputs, { count: { batches: 20 } });
  await assert.rejects(
    loadFixture(doc({ stages: [{ kind: 'count', after: 'nowhere' }] })).then((l) => runPipeline(l, { outDir: out() })),
    /\/stages\/0\/after: unknown stage "nowhere"; known: preprocess, adjust, train, evaluate, checkpoint/,
  );
});

test('a checkpoint of format 1 (written before the checkpoint registry) resumes to the uninterrupted result', async () => {
  await tf.setBackend('cpu');
  const v1 = doc({ adjust: [{ kind: 'grow-head' }], checkpoint: { enabled: true, everyBatches: 3, keep: 1 } });
  const reference = await runStopping(v1, out());
  const dir = out();
  cpSync(join(here, '..', '..', 'src', 'testing', 'fixtures', 'checkpoint-v1'), dir, { recursive: true });
  // The fixture was written from another checkout: point its pipeline at this checkout's fixture plugin.
  const step = join(dir, 'checkpoints', 'step-000000000013');
  const runJson = readFileSync(join(step, 'run.json'), 'utf8').replace(
    /"plugins":\["[^"]*"\]/,
    `"plugins":[${JSON.stringify(FIXTURE_PLUGIN)}]`,
  );
  writeFileSync(join(step, 'run.json'), runJson);
  const manifest = JSON.parse(readFileSync(join(step, 'manifest.json'), 'utf8')) as {
    format: number;
    files: Record<string, { sha256: string; bytes: number }>;
  };
  assert.equal(manifest.format, 1);
  manifest.files['run.json'] = {
    sha256: createHash('sha256').update(runJson).digest('hex'),
    bytes: Buffer.byteLength(runJson),
  };
  writeFileSync(join(step, 'manifest.json'), JSON.stringify(manifest));
  const resumed = await runStopping(v1, dir, undefined, true);
  assert.deepEqual(deterministic(resumed), deterministic(reference));
  assert.equal(resumed.summary.steps, 20);
});

test('a stop writes its checkpoint even when the pipeline turned checkpoints off, so it stays resumable', async () => {
  await tf.setBackend('cpu');
  const off = doc({ checkpoint: { enabled: false } });
  const reference = await runStopping(off, out());
  const dir = out();
  await runStopping(off, dir, (e) => e.type === 'batch-end' && e.step === 12);
  const root = join(dir, 'checkpoints');
  const written = readdirSync(root).filter((n) => n.startsWith('step-'));
  assert.equal(written.length, 1, 'only the stop wrote a checkpoint');
  assert.equal(
    (JSON.parse(readFileSync(join(root, written[0] ?? '', 'run.json'), 'utf8')) as { reason: string }).reason,
    'signal',
  );
  const resumed = await runStopping(off, dir, undefined, true);
  assert.deepEqual(deterministic(resumed), deterministic(reference));
});
