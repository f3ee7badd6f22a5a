import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Subject } from 'rxjs';
import type { EngramEvent, EngramEventInput, RunSummary } from '@engram/core';
import { clock, fitHeader, progressLine } from './progress-line.js';
import { renderProgress } from './progress.renderer.js';
import { formatOutcome } from './matrix-table.js';

/** Feeds events (seq/time added: `time` in ms as given) to a renderer writing into a string. */
function render(
  mode: 'bar' | 'lines',
  columns: number,
  events: Array<EngramEventInput & { time: number }>,
  epochs?: number,
): string {
  const subject = new Subject<EngramEvent>();
  let text = '';
  renderProgress(subject, mode, { write: (s: string) => (text += s), columns }, epochs !== undefined ? { epochs } : {});
  events.forEach((e, seq) => subject.next({ ...e, seq }));
  subject.complete();
  return text;
}

/** What a terminal shows: each `\r` restarts the line, escape codes take no room. */
function screen(text: string): string[] {
  return text.split('\n').map((l) => (l.split('\r').pop() ?? '').replaceAll('\u001b[K', ''));
}

const start: EngramEventInput & { time: number } = {
  type: 'run-start',
  name: 'q',
  seed: 1,
  backend: 'cpu',
  mode: 'experiences',
  experiences: 2,
  scenario: 'class-incremental',
  strategies: ['naive'],
  inputShape: [4],
  numClasses: 4,
  parameters: 100,
  time: 0,
};

/** Two experiences × 3 epochs × 4 batches of 32, one batch every 100 ms. */
function run(): Array<EngramEventInput & { time: number }> {
  const events: Array<EngramEventInput & { time: number }> = [start];
  let t = 0;
  let step = 0;
  for (let x = 0; x < 2; x++) {
    events.push({ type: 'experience-start', experience: x, classes: [2 * x, 2 * x + 1], trainSize: 128, time: t });
    for (let epoch = 0; epoch < 3; epoch++) {
      events.push({ type: 'epoch-start', experience: x, epoch, epochs: 3, time: t });
      for (let batch = 1; batch <= 4; batch++) {
        t += 100;
        events.push({
          type: 'batch-end',
          experience: x,
          epoch,
          batch,
          batches: 4,
          step: step++,
          size: 32,
          loss: 0.5,
          penalty: 0,
          accuracy: 0.9,
          epochLoss: 0.4321,
          epochAccuracy: 0.875,
          samplesPerSecond: 320,
          time: t,
        });
      }
    }
    events.push({
      type: 'evaluation',
      afterExperience: x,
      results: [
        { experience: 0, accuracy: 0.99, loss: 0.1, count: 10 },
        { experience: 1, accuracy: x === 0 ? 0 : 0.98, loss: 0.1, count: 10 },
      ],
      time: t,
    });
  }
  events.push({ type: 'run-end', wallSeconds: t / 1000, samplesPerSecond: 320, steps: step, time: t });
  return events;
}

test('at 80 columns the progress line keeps accuracy, samples/s and both ETAs, and never wraps', () => {
  const lines = screen(render('bar', 80, run()));
  const bars = lines.filter((l) => l.startsWith('exp '));
  assert.equal(bars.length, 2, 'one bar per experience, with the epochs inside it');
  for (const l of bars) {
    assert.ok(l.length <= 79, `${l.length} columns: ${l}`);
    assert.match(l, /acc 87\.5%/);
    assert.match(l, /\d+ samples\/s wall/);
    assert.match(l, /ETA \d+:\d\d/);
  }
  assert.match(bars[0] ?? '', /^exp 0 of 2 .*100%/);
  assert.match(bars[1] ?? '', /^exp 1 of 2 /);
  // 128 samples per 400 ms of batches = 320 samples/s, measured from the events' times.
  assert.match(bars[1] ?? '', / 320 samples\/s wall/);
});

test('a wide terminal also gets the loss, the epoch and the run elapsed time', () => {
  const mid = run().slice(0, 11); // experience 0, epoch 2 (1-based), batch 3 of 4
  const last = screen(render('bar', 160, mid)).pop() ?? '';
  assert.match(
    last,
    /^exp 0 of 2 epoch 2\/3 \[█{18}░{12}\] {2}58% loss 0\.4321 acc 87\.5% 320 samples\/s wall ETA 0:00 \| run 0:01, ETA 0:02$/,
  );
});

test('experiences are numbered from 0 in progress lines, like the matrix, report and eval', () => {
  const text = screen(render('lines', 80, run())).join('\n');
  assert.match(text, /^experience 0 of 2 \(0-1\) — classes 0,1, 128 samples$/m);
  assert.match(text, /^experience 1 of 2 \(0-1\)/m);
  assert.match(text, /^ {2}after exp 0 — test accuracy per experience \(%\): 99\.0 0\.0$/m);
  assert.doesNotMatch(text, /exp 2 of 2|experience 2/);
});

test('the run and experience headers fit 80 columns, wrapping between parts instead of mid-word', () => {
  const long: EngramEventInput & { time: number } = {
    ...start,
    name: 'split-mnist-class-incremental-ewc-with-replay-buffer',
    scenario: 'class-incremental (split-mnist, 5 experiences of 2 classes)',
    strategies: ['ewc', 'replay', 'lwf'],
    parameters: 1_234_567,
    backend: 'wasm (native kernels)',
    seed: 42,
  };
  const events: Array<EngramEventInput & { time: number }> = [
    long,
    { type: 'experience-start', experience: 0, classes: [0, 1, 2, 3, 4, 5, 6, 7], trainSize: 60_000, time: 0 },
  ];
  for (const mode of ['bar', 'lines'] as const) {
    const lines = screen(render(mode, 80, events)).filter((l) => l !== '');
    const flat = lines.map((l) => l.trim()).join(' ');
    assert.ok(flat.length > 130, `the header is long enough to need wrapping (${flat.length})`);
    for (const l of lines) assert.ok(l.length <= 79, `${l.length} columns: ${l}`);
    for (const part of [
      'engram: split-mnist-class-incremental-ewc-with-replay-buffer',
      'class-incremental (split-mnist, 5 experiences of 2 classes)',
      'ewc+replay+lwf',
      '1,234,567 parameters',
      'backend wasm (native kernels)',
      'seed 42',
      'experience 0 of 2 (0-1) — classes 0,1,2,3,4,5,6,7, 60,000 samples',
    ])
      assert.ok(flat.includes(part), `${part} in: ${flat}`);
    assert.ok(lines.length >= 3 && lines.length <= 4, lines.join('\n'));
  }
});

test('after a resume the epoch has no bogus total and samples/s counts only what this process trained', () => {
  // Resumed in experience 1, epoch 3 (0-based 2): no epoch-start for that epoch is emitted.
  const events: Array<EngramEventInput & { time: number }> = [{ ...start, time: 50_000 }];
  for (let batch = 1; batch <= 4; batch++) {
    events.push({
      type: 'batch-end',
      experience: 1,
      epoch: 2,
      batch,
      batches: 4,
      step: 20 + batch,
      size: 32,
      loss: 0.5,
      penalty: 0,
      accuracy: 0.9,
      epochLoss: 0.4,
      epochAccuracy: 0.9,
      samplesPerSecond: 56_709,
      time: 50_000 + batch * 200,
    });
  }
  const last =
    screen(render('bar', 120, events, 3))
      .filter((l) => l.startsWith('exp '))
      .pop() ?? '';
  assert.match(last, /epoch 3\/3 .*100%/);
  assert.doesNotMatch(last, /epoch 3\/1|56709/);
  assert.match(last, / 160 samples\/s wall/, last); // 3 batches of 32 after the first, in 600 ms
});

test('a header part wider than the terminal is cut with an ellipsis, never wrapped by the terminal', () => {
  const lines = fitHeader(['engram: ' + 'x'.repeat(200), 'naive'], 80);
  assert.deepEqual(
    lines.map((l) => l.length),
    [79, 7],
  );
  assert.ok(lines[0]?.endsWith('…'));
  assert.equal(lines[1], '  naive');
});

test('progress lines shrink to the width, giving up the bar first', () => {
  const f = {
    label: 'exp 3 of 5',
    epoch: 'epoch 8/8',
    fraction: 0.5,
    loss: '0.1234',
    accuracy: '97.1%',
    samplesPerSecond: '2790',
    eta: '0:12',
    run: 'run 1:05, ETA 3:20',
  };
  for (const w of [60, 80, 100, 140]) assert.ok(progressLine(f, w).length <= w - 1, `${w}: ${progressLine(f, w)}`);
  assert.match(progressLine(f, 140), /\[█+░+\]/);
  assert.match(progressLine(f, 60), /acc 97\.1% 2790 samples\/s wall ETA 0:12/);
  assert.equal(clock(65), '1:05');
  assert.equal(clock(3725), '1:02:05');
});

const base: RunSummary = {
  formatVersion: 1,
  name: 'x',
  seed: 1,
  strategy: 'naive',
  strategies: ['naive'],
  scenario: 's',
  backend: 'cpu',
  mode: 'experiences',
  experiences: 2,
  numClasses: 4,
  parameters: 1,
  averageAccuracy: 0.389,
  bwt: null,
  fwt: null,
  forgetting: null,
  learningAccuracy: null,
  accuracyMatrix: [[0.9, 0.1]],
  initialAccuracy: null,
  forgettingPerExperience: [],
  perClassAccuracy: null,
  confusionMatrix: null,
  trainSamples: 1000,
  replayedSamples: 0,
  steps: 10,
  samplesPerSecond: 500,
  wallSeconds: 2,
  peakRssBytes: 0,
  perExperience: [],
  loss: null,
  prequential: null,
  driftPoints: [],
  warnings: 0,
  badRecords: {},
  status: 'completed',
  error: null,
  outputs: {},
  skippedRows: 0,
  droppedSamples: 0,
  poisonedBatches: 0,
  checkpoints: 1,
  stopped: null,
  pipeline: {},
};

test('a stopped run says where it stopped and how to continue, with no partial ACC', () => {
  const text = formatOutcome({ ...base, stopped: 'SIGINT' }, 'SIGINT');
  assert.equal(text, 'stopped by SIGINT at experience 1; resumable with --resume (a checkpoint was written)');
  assert.doesNotMatch(text, /ACC/);
});

test('a stream run ends with prequential and fading accuracy, boundaries and samples, not an empty matrix', () => {
  const text = formatOutcome(
    {
      ...base,
      mode: 'stream',
      experiences: 3,
      accuracyMatrix: [],
      trainSamples: 20_000,
      prequential: { samples: 20_000, accuracy: 0.912, windowAccuracy: 0.97, fadingAccuracy: 0.981 },
      driftPoints: [
        { step: 375, reason: 'drift' },
        { step: 500, reason: 'drift' },
      ],
    },
    undefined,
  );
  assert.match(text, /^stream: 20,000 samples {3}prequential accuracy 91\.2% {3}window 97\.0% {3}fading 98\.1%$/m);
  assert.match(text, /^boundaries: 2 \(at steps 375, 500\) — 3 experiences$/m);
  assert.doesNotMatch(text, /accuracy matrix|ACC/);
});

test('a regression stream shows prequential MAE where a classification stream shows accuracy, while running and at the end', () => {
  const stream = { ...start, mode: 'stream' as const, experiences: 'endless' as const, scenario: 'stream' };
  const text = render('lines', 100, [
    { ...stream, time: 0 },
    {
      type: 'prequential',
      time: 2500,
      step: 40,
      samples: 320,
      accuracy: 0,
      windowAccuracy: 0,
      fadingAccuracy: 0,
      loss: 0.02,
      mae: 0.1234,
      windowMae: 0.0567,
      fadingMae: 0.0601,
      rmse: 0.2,
      windowRmse: 0.07,
    },
  ]);
  assert.match(text, /stream: 320 samples, prequential MAE 0\.1234 \(window 0\.0567, fading 0\.0601\), RMSE 0\.2000/);
  assert.doesNotMatch(text, /accuracy|%/);
  const end = formatOutcome(
    {
      ...base,
      mode: 'stream',
      experiences: 1,
      accuracyMatrix: [],
      trainSamples: 1600,
      prequential: {
        samples: 1600,
        accuracy: 0,
        windowAccuracy: 0,
        fadingAccuracy: 0,
        mae: 0.08,
        windowMae: 0.05,
        fadingMae: 0.051,
        rmse: 0.11,
        windowRmse: 0.06,
      },
    },
    undefined,
  );
  assert.match(
    end,
    /^stream: 1,600 samples {3}prequential MAE 0\.0800 {3}window 0\.0500 {3}fading 0\.0510 {3}RMSE 0\.1100$/m,
  );
  assert.doesNotMatch(end, /accuracy/);
});
