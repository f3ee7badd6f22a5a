import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../events/event-bus.js';
import type { EngramEvent } from '../events/engram-event.js';
import { parseAccuracyMatrixCsv } from './accuracy-matrix-csv.js';
import { RunRecorder, type RunSummary } from './index.js';

const meta = {
  name: 'split-toy',
  seed: 7,
  strategies: ['ewc', 'replay'],
  scenario: 'class-incremental',
  backend: 'auto',
  pipeline: { name: 'split-toy' },
};

/** Two experiences, two classes each; accuracies chosen so every metric has a hand-computed value. */
function emitExperienceRun(bus: EventBus): void {
  bus.emit({
    type: 'run-start',
    name: 'split-toy',
    seed: 7,
    backend: 'cpu',
    mode: 'experiences',
    experiences: 2,
    scenario: 'class-incremental',
    strategies: ['ewc', 'replay'],
    inputShape: [4],
    numClasses: 4,
    parameters: 20,
  });
  bus.emit({
    type: 'evaluation',
    afterExperience: -1,
    results: [
      { experience: 0, accuracy: 0.25, loss: 1.4, count: 8 },
      { experience: 1, accuracy: 0.125, loss: 1.4, count: 8 },
    ],
  });
  const losses = [
    [1.2, 0.8],
    [1.0, 0.6],
  ];
  for (let e = 0; e < 2; e++) {
    bus.emit({ type: 'experience-start', experience: e, classes: [2 * e, 2 * e + 1], trainSize: 16 });
    bus.emit({ type: 'epoch-start', experience: e, epoch: 0, epochs: 1 });
    losses[e]?.forEach((loss, b) =>
      bus.emit({
        type: 'batch-end',
        experience: e,
        epoch: 0,
        batch: b,
        batches: 2,
        step: 2 * e + b,
        size: 8,
        loss,
        penalty: 0,
        accuracy: 0.5,
        epochLoss: loss,
        epochAccuracy: 0.5,
        samplesPerSecond: 100,
      }),
    );
    bus.emit({ type: 'epoch-end', experience: e, epoch: 0, loss: e === 0 ? 1.0 : 0.8, accuracy: 0.6 });
    bus.emit({ type: 'experience-end', experience: e, samples: 16, wallSeconds: e === 0 ? 0.5 : 0.25, rssBytes: 123 });
    bus.emit({
      type: 'evaluation',
      afterExperience: e,
      results:
        e === 0
          ? [
              { experience: 0, accuracy: 0.875, loss: 0.3, count: 8 },
              { experience: 1, accuracy: 0.25, loss: 2, count: 8 },
            ]
          : [
              { experience: 0, accuracy: 0.5, loss: 0.9, count: 8, perClassCorrect: [3, 1], perClassCount: [4, 4] },
              {
                experience: 1,
                accuracy: 1,
                loss: 0.1,
                count: 8,
                perClassCorrect: [0, 0, 4, 4],
                perClassCount: [0, 0, 4, 4],
              },
            ],
    });
  }
  bus.emit({ type: 'run-end', wallSeconds: 1.5, samplesPerSecond: 42, steps: 4 });
  bus.complete();
}

async function record(
  emit: (bus: EventBus) => void,
  runMeta = meta,
): Promise<{ dir: string; summary: RunSummary; lines: EngramEvent[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'engram-recorder-'));
  const bus = new EventBus();
  const recorder = new RunRecorder(join(dir, 'out'), runMeta);
  recorder.attach(bus.events$);
  emit(bus);
  const summary = await recorder.finish();
  const text = readFileSync(join(dir, 'out', 'metrics.jsonl'), 'utf8');
  const lines = text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as EngramEvent);
  return { dir, summary, lines };
}

test('every event becomes one ordered JSON line with type, seq and time first', async () => {
  const { dir, lines } = await record(emitExperienceRun);
  assert.equal(lines.length, 17);
  lines.forEach((e, i) => {
    assert.equal(e.seq, i);
    assert.deepEqual(Object.keys(e).slice(0, 3), ['type', 'seq', 'time']);
  });
  assert.equal(lines[0]?.type, 'run-start');
  assert.equal(lines.at(-1)?.type, 'run-end');
  rmSync(dir, { recursive: true });
});

test('the summary holds the accuracy matrix and the metrics computed from it', async () => {
  const { dir, summary } = await record(emitExperienceRun);
  assert.deepEqual(summary.accuracyMatrix, [
    [0.875, 0.25],
    [0.5, 1],
  ]);
  assert.deepEqual(summary.initialAccuracy, [0.25, 0.125]);
  assert.equal(summary.averageAccuracy, 0.75);
  assert.equal(summary.bwt, 0.5 - 0.875);
  assert.equal(summary.fwt, 0.25 - 0.125);
  assert.equal(summary.forgetting, 0.375);
  assert.equal(summary.learningAccuracy, 0.9375);
  assert.deepEqual(summary.forgettingPerExperience, [0.375, null]);
  assert.deepEqual(summary.perClassAccuracy, [0.75, 0.25, 1, 1]);
  assert.equal(summary.strategy, 'ewc+replay');
  assert.equal(summary.backend, 'cpu', 'the backend actually used, from run-start');
  assert.equal(summary.seed, 7);
  assert.equal(summary.scenario, 'class-incremental');
  assert.equal(summary.wallSeconds, 1.5);
  assert.equal(summary.samplesPerSecond, 42);
  assert.equal(summary.trainSamples, 32);
  assert.deepEqual(
    summary.perExperience.map((e) => [e.experience, e.wallSeconds, e.samplesPerSecond, e.loss]),
    [
      [0, 0.5, 32, 1.0],
      [1, 0.25, 64, 0.8],
    ],
  );
  assert.ok(summary.peakRssBytes > 1_000_000, `peak RSS comes from process.memoryUsage(), got ${summary.peakRssBytes}`);
  assert.deepEqual(
    summary.loss && [summary.loss.count, summary.loss.first, summary.loss.last, summary.loss.min],
    [4, 1.2, 0.6, 0.6],
  );
  assert.equal(summary.prequential, null);
  assert.equal(summary.mode, 'experiences');
  const onDisk = JSON.parse(readFileSync(join(dir, 'out', 'summary.json'), 'utf8')) as RunSummary;
  assert.deepEqual(onDisk, JSON.parse(JSON.stringify(summary)));
  rmSync(dir, { recursive: true });
});

test('accuracy-matrix.csv parses back to the summary matrix and initial accuracies', async () => {
  const { dir, summary } = await record(emitExperienceRun);
  const csv = readFileSync(join(dir, 'out', 'accuracy-matrix.csv'), 'utf8');
  assert.equal(csv.split('\n')[0], 'after_experience,experience_0,experience_1');
  assert.deepEqual(parseAccuracyMatrixCsv(csv), { matrix: summary.accuracyMatrix, initial: summary.initialAccuracy });
  rmSync(dir, { recursive: true });
});

test('a stream run reports the final prequential accuracy and the drift points', async () => {
  const { dir, summary } = await record(
    (bus) => {
      bus.emit({
        type: 'run-start',
        name: 's',
        seed: 1,
        backend: 'cpu',
        mode: 'stream',
        experiences: 'endless',
        scenario: 'stream',
        strategies: [],
        inputShape: [2],
        numClasses: 2,
        parameters: 6,
      });
      for (let step = 0; step < 6; step++) {
        bus.emit({
          type: 'prequential',
          step,
          samples: 10 * (step + 1),
          accuracy: 0.5 + step / 20,
          windowAccuracy: 0.6,
          fadingAccuracy: 0.7,
          loss: 0.5,
        });
        if (step === 3) bus.emit({ type: 'boundary', step, reason: 'page-hinkley drift' });
      }
      bus.emit({ type: 'run-end', wallSeconds: 2, samplesPerSecond: 30, steps: 6, stopped: 'max-steps' });
      bus.complete();
    },
    { ...meta, strategies: [] },
  );
  assert.deepEqual(summary.prequential, { samples: 60, accuracy: 0.75, windowAccuracy: 0.6, fadingAccuracy: 0.7 });
  assert.deepEqual(summary.driftPoints, [{ step: 3, reason: 'page-hinkley drift' }]);
  assert.equal(summary.mode, 'stream');
  assert.equal(summary.strategy, 'none');
  assert.equal(summary.stopped, 'max-steps');
  assert.deepEqual(summary.accuracyMatrix, []);
  assert.equal(summary.averageAccuracy, null);
  rmSync(dir, { recursive: true });
});

test('finish is idempotent and stops recording events emitted afterwards', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-recorder-'));
  const bus = new EventBus();
  const recorder = new RunRecorder(dir, meta);
  recorder.attach(bus.events$);
  bus.emit({ type: 'warning', message: 'first' });
  const a = await recorder.finish();
  bus.emit({ type: 'warning', message: 'late' });
  const b = await recorder.finish();
  assert.equal(a, b);
  assert.equal(a.warnings, 1);
  assert.equal(readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trimEnd().split('\n').length, 1);
  assert.throws(() => recorder.attach(bus.events$), /already attached or finished/);
  rmSync(dir, { recursive: true });
});

test('an existing metrics.jsonl stays whole until the new one is flushed, then is replaced, never truncated', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-recorder-'));
  const out = join(dir, 'out');
  mkdirSync(out);
  const old = '{"type":"run-start","seq":0,"time":0}\n{"type":"batch-end","seq":1,"time":5}\n';
  writeFileSync(join(out, 'metrics.jsonl'), old);
  const bus = new EventBus();
  const recorder = new RunRecorder(out, meta);
  recorder.attach(bus.events$);
  bus.emit({ type: 'epoch-start', experience: 0, epoch: 0, epochs: 1 });
  // a process killed here (after attach, before the first checkpoint's flush) leaves the old history
  await new Promise((r) => setImmediate(r));
  assert.equal(readFileSync(join(out, 'metrics.jsonl'), 'utf8'), old);
  const mark = await recorder.flush();
  const text = readFileSync(join(out, 'metrics.jsonl'), 'utf8');
  assert.equal(Buffer.byteLength(text), mark.bytes);
  assert.equal(text.split('\n').length - 1, 1);
  assert.equal(existsSync(join(out, 'metrics.jsonl.partial')), false);
  bus.emit({ type: 'epoch-end', experience: 0, epoch: 0, loss: 1, accuracy: 0.5 });
  bus.complete();
  await recorder.finish();
  assert.equal(readFileSync(join(out, 'metrics.jsonl'), 'utf8').split('\n').length - 1, 2);
  rmSync(dir, { recursive: true });
});

test('a run that ends before any flush still replaces an existing metrics.jsonl with its own events', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-recorder-'));
  const out = join(dir, 'out');
  mkdirSync(out);
  writeFileSync(join(out, 'metrics.jsonl'), 'an older run\n'.repeat(100));
  const { lines } = await (async () => {
    const bus = new EventBus();
    const recorder = new RunRecorder(out, meta);
    recorder.attach(bus.events$);
    emitExperienceRun(bus);
    await recorder.finish();
    const text = readFileSync(join(out, 'metrics.jsonl'), 'utf8');
    return { lines: text.trimEnd().split('\n') };
  })();
  assert.equal(lines.length, 17);
  assert.equal(existsSync(join(out, 'metrics.jsonl.partial')), false);
  rmSync(dir, { recursive: true });
});
