import type { GateCheck, ServePromoteSettings } from '@engram/core';
import type { GateSamples } from './gate-samples.js';
import type { ModelVersion } from './model-version.js';

/** What the gates decided about one new version. */
export interface GateVerdict {
  readonly passed: boolean;
  /** Every check run, in order (forgetting per experience, feedback, finite). */
  readonly checks: GateCheck[];
  /** The first failed check, if any. */
  readonly failed?: GateCheck;
  /** One line naming the failed check and its figures (empty when passed). */
  readonly message: string;
}

/** Labels predicted by `version` for `n` samples of preprocessed inputs, and how many outputs were not finite. */
function predicted(
  version: ModelVersion,
  x: Float32Array,
  n: number,
  task?: Int32Array,
): { labels: Int32Array; nonFinite: number } {
  const { probabilities, labels } = version.classify(x, n, task);
  let nonFinite = 0;
  for (const v of probabilities) if (!Number.isFinite(v)) nonFinite++;
  return { labels, nonFinite };
}

function accuracy(labels: Int32Array, y: ArrayLike<number>): number {
  let right = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === y[i]) right++;
  return labels.length === 0 ? 0 : right / labels.length;
}

const pct = (a: number): string => `${(a * 100).toFixed(1)}%`;

/** Raw feedback or request inputs, through a version's own preprocessing. */
function prepared(version: ModelVersion, rows: readonly Float32Array[], shape: readonly number[]): Float32Array {
  const len = rows[0]?.length ?? 0;
  const x = new Float32Array(rows.length * len);
  rows.forEach((r, i) => x.set(r, i * len));
  return version.prepare({ x, y: new Int32Array(rows.length), sampleShape: shape }).x;
}

/**
 * Scores `candidate` and `served` on the same samples and decides whether the candidate may replace
 * the served version (`serve.promote`). Called in the serving thread when a new version is built, before
 * it is served; synchronous (predictions are); it notes the served version's scores in `samples`. Checks:
 *
 * - `forgetting` (with `maxForgetting`): per experience's held-out slice, candidate accuracy ≥ the best
 *   accuracy a served version has had on it (the served one's, or higher) − maxForgetting points; on
 *   the replay-memory slice of a stream (redrawn at each publish), ≥ the served one's − maxForgetting;
 * - `feedback` (with `feedback`): on the last `last` labelled feedback records, candidate accuracy ≥
 *   served − `tolerance` points (skipped below `minRecords`);
 * - `finite` (`finite`, default on): every output of the candidate on all those samples and on the last
 *   requests' inputs is a finite number.
 *
 * `inputShape`: the shape of one raw instance (feedback and requests are preprocessed by each version).
 * A model that takes task labels is scored on held-out slices only (feedback records carry no task).
 */
export function judge(
  candidate: ModelVersion,
  served: ModelVersion,
  samples: GateSamples,
  settings: ServePromoteSettings,
  inputShape: readonly number[],
): GateVerdict {
  const checks: GateCheck[] = [];
  let nonFinite = 0;
  let probed = 0;
  for (const slice of samples.heldOut()) {
    const n = slice.y.length;
    const c = predicted(candidate, slice.x, n, slice.task);
    nonFinite += c.nonFinite;
    probed += n;
    if (settings.maxForgetting === undefined) continue;
    const s = predicted(served, slice.x, n, slice.task);
    const served_ = accuracy(s.labels, slice.y);
    const cand = accuracy(c.labels, slice.y);
    // Forgetting as continual learning measures it: from the best accuracy reached on the experience,
    // so that versions each a little worse than the last cannot walk the served model down.
    // A replay slice is redrawn at every publish: no earlier version was scored on it.
    const best = slice.source === 'replay' ? served_ : samples.servedScore(slice.experience, n, served_);
    const limit = best - settings.maxForgetting / 100;
    checks.push({
      name: 'forgetting',
      ...(slice.source === 'replay' ? { slice: 'replay' as const } : { experience: slice.experience }),
      passed: cand >= limit - 1e-9,
      samples: n,
      served: served_,
      candidate: cand,
      best,
      limit,
    });
  }
  const fb = samples.feedback();
  if (!candidate.takesTask && fb.length > 0) {
    const xc = prepared(
      candidate,
      fb.map((r) => r.x),
      inputShape,
    );
    const c = predicted(candidate, xc, fb.length);
    nonFinite += c.nonFinite;
    probed += fb.length;
    if (settings.feedback) {
      const { tolerance, minRecords } = settings.feedback;
      const s = predicted(
        served,
        prepared(
          served,
          fb.map((r) => r.x),
          inputShape,
        ),
        fb.length,
      );
      const y = fb.map((r) => r.y);
      const served_ = accuracy(s.labels, y);
      const cand = accuracy(c.labels, y);
      const limit = served_ - tolerance / 100;
      const skipped = fb.length < minRecords;
      checks.push({
        name: 'feedback',
        passed: skipped || cand >= limit - 1e-9,
        ...(skipped ? { skipped } : {}),
        samples: fb.length,
        served: served_,
        candidate: cand,
        limit,
      });
    }
  } else if (settings.feedback) {
    checks.push({ name: 'feedback', passed: true, skipped: true, samples: 0 });
  }
  const recent = samples.recentRequests();
  if (!candidate.takesTask && recent.length > 0) {
    nonFinite += predicted(candidate, prepared(candidate, recent, inputShape), recent.length).nonFinite;
    probed += recent.length;
  }
  if (settings.finite) checks.push({ name: 'finite', passed: nonFinite === 0, samples: probed, nonFinite });
  const failed = checks.find((c) => !c.passed);
  return {
    passed: failed === undefined,
    checks,
    ...(failed ? { failed } : {}),
    message: failed ? describe(failed) : '',
  };
}

/** One line for a failed check: what it compares and its figures. */
export function describe(c: GateCheck): string {
  switch (c.name) {
    case 'forgetting':
      return (
        `forgetting: on ${c.slice === 'replay' ? 'a seeded slice of the replay memory' : `the held-out slice of experience ${c.experience}`} (${c.samples} samples) the new version ` +
        `scores ${pct(c.candidate ?? 0)} against the served ${pct(c.served ?? 0)} (best served ${pct(c.best ?? 0)}); ` +
        `at least ${pct(c.limit ?? 0)} (serve.promote.maxForgetting) is required`
      );
    case 'feedback':
      return (
        `feedback: on the last ${c.samples} labelled feedback records the new version scores ${pct(c.candidate ?? 0)} ` +
        `against the served ${pct(c.served ?? 0)}; at least ${pct(c.limit ?? 0)} (serve.promote.feedback.tolerance) is required`
      );
    case 'finite':
      return `finite: ${c.nonFinite ?? 0} outputs of the new version on ${c.samples} gate samples are not finite numbers`;
  }
}
