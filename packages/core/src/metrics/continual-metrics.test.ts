import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  averageAccuracy,
  backwardTransfer,
  continualMetrics,
  forgetting,
  forgettingPerExperience,
  forwardTransfer,
  learningAccuracy,
} from './continual-metrics.js';

const close = (actual: number | null, expected: number, msg?: string): void => {
  assert.ok(actual !== null, msg ?? `expected ${expected}, got null`);
  assert.ok(Math.abs(actual - expected) < 1e-12, `${msg ?? ''} expected ${expected}, got ${actual}`);
};

// Hand-computed 3-experience example. Row i = after training i.
const R = [
  [0.9, 0.1, 0.2],
  [0.95, 0.8, 0.3],
  [0.5, 0.7, 0.95],
];
const b = [0.1, 0.15, 0.1];

test('average accuracy is the mean of the last row', () => {
  close(averageAccuracy(R), (0.5 + 0.7 + 0.95) / 3);
});

test('BWT averages final minus just-trained accuracy over all but the last experience and is negative when the model forgot', () => {
  // ((0.5 - 0.9) + (0.7 - 0.8)) / 2
  close(backwardTransfer(R), -0.25);
});

test('BWT is positive when later training improved earlier experiences', () => {
  close(
    backwardTransfer([
      [0.5, 0],
      [0.7, 0.9],
    ]),
    0.2,
  );
});

test('FWT averages accuracy before training minus the untrained accuracy, with its sign', () => {
  // ((R[0][1] - b1) + (R[1][2] - b2)) / 2 = ((0.1 - 0.15) + (0.3 - 0.1)) / 2
  close(forwardTransfer(R, b), 0.075);
  close(
    forwardTransfer(
      [
        [0.9, 0.0],
        [0.9, 0.9],
      ],
      [0.1, 0.2],
    ),
    -0.2,
  );
});

test('FWT is null without the initial evaluation', () => {
  assert.equal(forwardTransfer(R, null), null);
});

test('forgetting uses the best earlier accuracy, not the just-trained one', () => {
  // j=0: max(0.9, 0.95) - 0.5 = 0.45; j=1: max(0.1, 0.8) - 0.7 = 0.1; last experience: null.
  const per = forgettingPerExperience(R);
  close(per[0] ?? null, 0.45);
  close(per[1] ?? null, 0.1);
  assert.equal(per[2], null);
  close(forgetting(R), 0.275);
});

test('forgetting is negative when the final accuracy beats every earlier one', () => {
  close(
    forgetting([
      [0.5, 0],
      [0.7, 0.9],
    ]),
    -0.2,
  );
});

test('learning accuracy is the mean of the diagonal', () => {
  close(learningAccuracy(R), (0.9 + 0.8 + 0.95) / 3);
});

test('a single experience defines ACC and learning accuracy, and leaves BWT, FWT and forgetting null', () => {
  const m = continualMetrics([[0.8]], [0.1]);
  assert.deepEqual(m, { averageAccuracy: 0.8, bwt: null, fwt: null, forgetting: null, learningAccuracy: 0.8 });
  assert.deepEqual(forgettingPerExperience([[0.8]]), [null]);
});

test('an empty matrix gives null for every metric', () => {
  assert.deepEqual(continualMetrics([], null), {
    averageAccuracy: null,
    bwt: null,
    fwt: null,
    forgetting: null,
    learningAccuracy: null,
  });
});

test('terms with a null entry are skipped', () => {
  const partial = [
    [0.9, null, 0.3],
    [null, 0.8, 0.4],
    [0.6, null, 0.7],
  ];
  close(averageAccuracy(partial), 0.65);
  // Only j=0 has both R[2][0] and R[0][0]; j=1 final is null.
  close(backwardTransfer(partial), 0.6 - 0.9);
  close(learningAccuracy(partial), (0.9 + 0.8 + 0.7) / 3);
  // FWT: j=1 R[0][1] null -> skipped; j=2: R[1][2] - b2 = 0.4 - 0.1
  close(forwardTransfer(partial, [0.1, 0.1, 0.1]), 0.3);
});

test('a non-square matrix (more test sets than trained experiences) uses the rows it has', () => {
  const early = [
    [0.9, 0.1, 0.1],
    [0.7, 0.85, 0.2],
  ];
  close(averageAccuracy(early), (0.7 + 0.85 + 0.2) / 3);
  close(backwardTransfer(early), -0.2);
  close(forgetting(early), 0.2);
  assert.deepEqual(forgettingPerExperience(early).slice(1), [null, null]);
});

test('ragged rows and non-finite entries are rejected with a clear message', () => {
  assert.throws(() => averageAccuracy([[0.1, 0.2], [0.3]]), /row 1 has 1 entries, row 0 has 2/);
  assert.throws(() => forgetting([[Number.NaN]]), /entry \[0\]\[0\] is NaN/);
});
