import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type {
  AfterBatchContext,
  EngramModel,
  ExperienceContext,
  LossContext,
  QuadraticPenalty,
  StepContext,
} from '@engram/core';
import { SiStrategy } from './si.strategy.js';

await tf.setBackend('cpu');

/** A "model" that is just a vector of parameters, for driving the hooks on a quadratic toy problem. */
function paramModel(theta: tf.Variable): EngramModel {
  return { trainableVariables: () => [theta] } as unknown as EngramModel;
}

test("SI's importance on a quadratic toy problem is the curvature-weighted path integral a/(2 - eta*a)", () => {
  // loss = Σ ½ aᵢ (θᵢ − 1)², θ₀ = 0, plain gradient descent with step η. The path integral
  // Σ η gₖ² telescopes to aΔ²/(2 − ηa) at convergence, so Ω = a/(2 − ηa)·Δ²/(Δ² + ξ) with Δ = 1.
  const a = tf.tensor1d([1, 4, 0.25]);
  const eta = 0.1;
  const theta = tf.variable(tf.zeros([3]), true, 'theta');
  const model = paramModel(theta);
  const s = new SiStrategy({ c: 2, xi: 1e-6 });
  s.beforeExperience();
  for (let k = 0; k < 400; k++) {
    const g = tf.tidy(() => tf.mul(a, tf.sub(theta, 1)));
    s.afterBackward({ theta: g }, { model } as StepContext);
    theta.assign(tf.tidy(() => tf.sub(theta, tf.mul(g, eta))));
    g.dispose();
    s.afterBatch({ model } as AfterBatchContext);
  }
  const omega = Array.from(s.pathIntegral.get('#0')!.dataSync());
  s.afterExperience({ model } as ExperienceContext);
  const importance = Array.from(s.importances.get('#0')!.dataSync());
  const expected = [1, 4, 0.25].map((ai) => ai / (2 - eta * ai));
  // a = 0.25 converges slowest: after 400 steps (1 − 0.025)^400 ≈ 4e-5 of the distance remains
  importance.forEach((v, i) =>
    assert.ok(Math.abs(v - (expected[i] as number)) < 1e-3, `Ω[${i}] = ${v}, expected ${expected[i]}`),
  );
  omega.forEach((v, i) => assert.ok(Math.abs(v - (expected[i] as number)) < 1e-3));
  assert.equal(s.pathIntegral.size, 0);
  // the penalty is c Σ Ω (θ − θ*)²: zero at the anchor, c·ΣΩ·0.01 after a 0.1 shift
  const penalty = (): number =>
    tf.tidy(() => (s.penalty({ model } as LossContext) as QuadraticPenalty).toScalar().dataSync()[0] as number);
  assert.ok(Math.abs(penalty()) < 1e-12);
  theta.assign(tf.tidy(() => tf.add(theta, 0.1)));
  const sum = importance.reduce((p, q) => p + q, 0);
  assert.ok(Math.abs(penalty() - 2 * sum * 0.01) < 1e-5);
  s.dispose();
  tf.dispose([a, theta]);
});
