import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { learningRateAt, resolvePeriod, scheduleTime, zeroCounters } from './lr-schedule.js';

describe('learning-rate schedules', () => {
  it('cosine with warm-up rises linearly for `warmup` steps, then follows the half cosine to its minimum', () => {
    const spec = { type: 'cosine', interval: 'step', warmup: 4, minLearningRate: 0.001 } as const;
    const base = 0.1;
    const period = 20;
    for (let t = 0; t < 4; t++) assert.equal(learningRateAt(spec, base, t, period), (base * (t + 1)) / 4);
    for (const k of [0, 1, 7, 10, 19, 20]) {
      const expected = 0.001 + ((base - 0.001) * (1 + Math.cos((Math.PI * k) / period))) / 2;
      assert.equal(learningRateAt(spec, base, 4 + k, period), expected);
    }
    assert.equal(learningRateAt(spec, base, 4 + 10, period), 0.001 + (base - 0.001) / 2);
    // past the period the rate stays at the minimum
    assert.equal(learningRateAt(spec, base, 4 + 35, period), 0.001);
  });

  it('step decays by gamma every stepSize intervals and exponential by gamma every interval', () => {
    const step = { type: 'step', stepSize: 3, gamma: 0.5 } as const;
    assert.deepEqual(
      [0, 1, 2, 3, 5, 6, 9].map((t) => learningRateAt(step, 0.08, t)),
      [0.08, 0.08, 0.08, 0.04, 0.04, 0.02, 0.01],
    );
    const exp = { type: 'exponential', gamma: 0.9, warmup: 2 } as const;
    assert.equal(learningRateAt(exp, 1, 0), 0.5);
    assert.equal(learningRateAt(exp, 1, 1), 1);
    assert.equal(learningRateAt(exp, 1, 2), 1);
    assert.equal(learningRateAt(exp, 1, 5), Math.pow(0.9, 3));
  });

  it('counts steps or epochs, per experience or over the run, as the spec says', () => {
    const c = { ...zeroCounters(), runSteps: 40, runEpochs: 5, experienceSteps: 7, experienceEpochs: 1 };
    assert.equal(scheduleTime({ type: 'constant' }, c), 1);
    assert.equal(scheduleTime({ type: 'constant', interval: 'step' }, c), 7);
    assert.equal(scheduleTime({ type: 'constant', scope: 'run' }, c), 5);
    assert.equal(scheduleTime({ type: 'constant', scope: 'run', interval: 'step' }, c), 40);
  });

  it("defaults a per-experience cosine period to the experience's epochs or iterations minus the warm-up, and asks for one otherwise", () => {
    assert.equal(resolvePeriod({ type: 'cosine', warmup: 1 }, { epochs: 5 }), 4);
    assert.equal(resolvePeriod({ type: 'cosine', interval: 'step' }, { iterations: 30 }), 30);
    assert.equal(resolvePeriod({ type: 'cosine', period: 9, scope: 'run' }, {}), 9);
    assert.equal(typeof resolvePeriod({ type: 'cosine', scope: 'run' }, { epochs: 3 }), 'string');
    assert.equal(typeof resolvePeriod({ type: 'cosine', interval: 'step' }, { epochs: 3 }), 'string');
  });
});
