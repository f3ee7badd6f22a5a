import type { RunSummary } from '@engram/core';

function pct(v: number | null | undefined): string {
  return v === null || v === undefined ? '   -  ' : `${(v * 100).toFixed(1).padStart(5)}%`;
}

function signed(v: number | null | undefined): string {
  return v === null || v === undefined ? '-' : `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`;
}

/**
 * The accuracy matrix as a text table (row i = after training experience i, column j = accuracy on
 * experience j), followed by ACC / BWT / FWT / forgetting.
 */
export function formatMatrix(summary: RunSummary): string {
  const m = summary.accuracyMatrix;
  const cols = Math.max(0, ...m.map((r) => r.length));
  const lines: string[] = [];
  lines.push(`accuracy matrix (row = after training exp i, column = test on exp j)`);
  lines.push(`         ${Array.from({ length: cols }, (_, j) => `  exp ${String(j).padEnd(2)}`).join('')}`);
  if (summary.initialAccuracy) lines.push(`  init   ${summary.initialAccuracy.map((v) => `  ${pct(v)}`).join('')}`);
  m.forEach((row, i) => lines.push(`  exp ${String(i).padEnd(3)}${row.map((v) => `  ${pct(v)}`).join('')}`));
  lines.push('');
  lines.push(`ACC ${pct(summary.averageAccuracy).trim()}   BWT ${signed(summary.bwt)}   FWT ${signed(summary.fwt)}   forgetting ${signed(summary.forgetting)}`);
  lines.push(`${summary.samplesPerSecond.toFixed(0)} samples/s   ${summary.wallSeconds.toFixed(1)} s   backend ${summary.backend}`);
  return lines.join('\n');
}
