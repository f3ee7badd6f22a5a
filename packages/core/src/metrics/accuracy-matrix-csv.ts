import type { AccuracyMatrix } from './continual-metrics.js';

/**
 * `DIR/accuracy-matrix.csv`: header `after_experience,experience_0,…,experience_{m-1}`, then one
 * line per trained experience i: `i,R[i][0],…` with accuracies as JavaScript's shortest round-trip
 * decimal (so parsing gives back the same doubles) and empty cells for `null` (not evaluated).
 * When the untrained model was evaluated, a first data line `initial,b[0],…` precedes row 0.
 */
export function accuracyMatrixCsv(R: AccuracyMatrix, initial: readonly (number | null)[] | null = null): string {
  const m = Math.max(R[0]?.length ?? 0, initial?.length ?? 0);
  const cell = (v: number | null | undefined): string => (v === null || v === undefined ? '' : String(v));
  const lines = [['after_experience', ...Array.from({ length: m }, (_, j) => `experience_${j}`)].join(',')];
  if (initial !== null) lines.push(['initial', ...Array.from({ length: m }, (_, j) => cell(initial[j]))].join(','));
  R.forEach((row, i) => lines.push([String(i), ...Array.from({ length: m }, (_, j) => cell(row[j]))].join(',')));
  return `${lines.join('\n')}\n`;
}

/** Parses {@link accuracyMatrixCsv} output back into `{ matrix, initial }` (for tests and `compare`). */
export function parseAccuracyMatrixCsv(text: string): {
  matrix: (number | null)[][];
  initial: (number | null)[] | null;
} {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines.shift();
  if (header?.startsWith('after_experience') !== true)
    throw new Error('accuracy-matrix.csv: missing header line "after_experience,…"');
  const parse = (cells: string[], line: number): (number | null)[] =>
    cells.map((c) => {
      if (c === '') return null;
      const v = Number(c);
      if (!Number.isFinite(v)) throw new Error(`accuracy-matrix.csv line ${line}: "${c}" is not a number`);
      return v;
    });
  let initial: (number | null)[] | null = null;
  const matrix: (number | null)[][] = [];
  lines.forEach((l, k) => {
    const [label, ...cells] = l.split(',');
    if (label === 'initial') initial = parse(cells, k + 2);
    else matrix.push(parse(cells, k + 2));
  });
  return { matrix, initial };
}
