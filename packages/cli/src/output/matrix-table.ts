import type { RegressionErrors, RunSummary } from '@engram/core';

function pct(v: number | null | undefined): string {
  return v === null || v === undefined ? '   -  ' : `${(v * 100).toFixed(1).padStart(5)}%`;
}

function signed(v: number | null | undefined): string {
  return v === null || v === undefined ? '-' : `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`;
}

/**
 * The accuracy matrix as a text table (row i = after training experience i, column j = accuracy on
 * experience j, both from 0), followed by ACC / BWT / FWT / forgetting.
 */
export function formatMatrix(summary: RunSummary): string {
  if (summary.errors) return formatErrors(summary, summary.errors);
  const m = summary.accuracyMatrix;
  const cols = Math.max(0, ...m.map((r) => r.length));
  const lines: string[] = [];
  lines.push(`accuracy matrix (row = after training exp i, column = test on exp j)`);
  lines.push(`         ${Array.from({ length: cols }, (_, j) => `  exp ${String(j).padEnd(2)}`).join('')}`);
  if (summary.initialAccuracy) lines.push(`  init   ${summary.initialAccuracy.map((v) => `  ${pct(v)}`).join('')}`);
  m.forEach((row, i) => lines.push(`  exp ${String(i).padEnd(3)}${row.map((v) => `  ${pct(v)}`).join('')}`));
  lines.push('');
  lines.push(
    `ACC ${pct(summary.averageAccuracy).trim()}   BWT ${signed(summary.bwt)}   FWT ${signed(summary.fwt)}   ` +
      `forgetting ${signed(summary.forgetting)}`,
  );
  lines.push(footer(summary));
  return lines.join('\n');
}

function err(v: number | null | undefined): string {
  return v === null || v === undefined ? '    -   ' : v.toFixed(4).padStart(8);
}

/**
 * A regression run's result: the MAE matrix (row i = after training experience i, column j = error on
 * experience j, in the targets' units, lower is better), then average MAE/RMSE and forgetting as error
 * increase.
 */
export function formatErrors(summary: RunSummary, e: RegressionErrors): string {
  const m = e.maeMatrix;
  const cols = Math.max(0, ...m.map((r) => r.length));
  const lines: string[] = [];
  lines.push(`MAE matrix, target units (row = after training exp i, column = test on exp j)`);
  lines.push(`         ${Array.from({ length: cols }, (_, j) => `  exp ${String(j).padEnd(4)}`).join('')}`);
  if (e.initialMae) lines.push(`  init   ${e.initialMae.map((v) => `  ${err(v)}`).join('')}`);
  m.forEach((row, i) => lines.push(`  exp ${String(i).padEnd(3)}${row.map((v) => `  ${err(v)}`).join('')}`));
  lines.push('');
  const f = e.forgetting;
  lines.push(
    `MAE ${err(e.averageMae).trim()}   RMSE ${err(e.averageRmse).trim()}   learning MAE ${err(e.learningMae).trim()}   ` +
      `forgetting (MAE increase) ${f === null ? '-' : `${f >= 0 ? '+' : ''}${f.toFixed(4)}`}`,
  );
  lines.push(footer(summary));
  return lines.join('\n');
}

/**
 * Throughput, time and backend: the last line of every final summary. Two rates, each saying what it
 * counts: `train` is rows (replay included) per second spent in training steps only (summary.json's
 * `samplesPerSecond`); `wall` is records per second of the whole run's wall time, evaluation and
 * checkpoints included.
 */
export function footer(summary: RunSummary): string {
  const wall = summary.wallSeconds > 0 ? summary.trainSamples / summary.wallSeconds : 0;
  return (
    `${summary.samplesPerSecond.toFixed(0)} samples/s training only, ${wall.toFixed(0)} samples/s wall   ` +
    `${summary.wallSeconds.toFixed(1)} s   backend ${summary.backend}`
  );
}

/**
 * A stream run's result: prequential accuracy (overall, sliding window, fading; a regression stream's
 * prequential MAE and RMSE in target units instead), samples, and the
 * drift boundaries — a stream has no per-experience test sets, so no accuracy matrix.
 */
export function formatStream(summary: RunSummary): string {
  const p = summary.prequential;
  const lines: string[] = [];
  if (p?.mae !== undefined) {
    // a regression stream: prequential errors in target units, lower is better
    const f = (v: number | undefined): string => (v ?? NaN).toFixed(4);
    lines.push(
      `stream: ${p.samples.toLocaleString('en')} samples   prequential MAE ${f(p.mae)}   window ${f(p.windowMae)}   ` +
        `fading ${f(p.fadingMae)}   RMSE ${f(p.rmse)}`,
    );
  } else if (p) {
    lines.push(
      `stream: ${p.samples.toLocaleString('en')} samples   prequential accuracy ${pct(p.accuracy).trim()}   window ` +
        `${pct(p.windowAccuracy).trim()}   fading ${pct(p.fadingAccuracy).trim()}`,
    );
  } else {
    lines.push(`stream: ${summary.trainSamples.toLocaleString('en')} samples, no prequential evaluation`);
  }
  const b = summary.driftPoints;
  lines.push(
    b.length === 0
      ? 'boundaries: none detected'
      : `boundaries: ${b.length} (at step${b.length === 1 ? '' : 's'} ${b.map((d) => d.step).join(', ')}) — ` +
          `${summary.experiences} experiences`,
  );
  lines.push(footer(summary));
  return lines.join('\n');
}

/**
 * What a run prints when it ends: the accuracy matrix (experience runs) or the prequential figures
 * (stream runs); a run stopped by a signal says where it stopped and how to continue instead of
 * showing partial figures that read like a result.
 */
export function formatOutcome(summary: RunSummary, stopped: string | undefined): string {
  if (stopped) {
    const where =
      summary.mode === 'stream'
        ? `stream experience ${Math.max(0, summary.experiences - 1)} after ${summary.trainSamples.toLocaleString('en')} samples`
        : `experience ${summary.accuracyMatrix.length}`;
    return `stopped by ${stopped} at ${where}; resumable with --resume (a checkpoint was written)`;
  }
  return summary.mode === 'stream' ? formatStream(summary) : formatMatrix(summary);
}
