/** Edit distance (insertions, deletions, substitutions, adjacent swaps) between two short names. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => d[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The known name closest to `name` — case-insensitively, by edit distance, or one that contains it or is
 * contained in it — if it is close enough to be a likely typo (at most a third of its letters differ).
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  // names are short: a huge unknown key gets no hint rather than a (length × length) distance table
  if (name.length > 64) return undefined;
  const n = name.toLowerCase();
  let best: { name: string; score: number } | undefined;
  for (const k of known) {
    const l = k.toLowerCase();
    if (l === n) return k;
    const distance = editDistance(n, l);
    const limit = Math.max(1, Math.floor(Math.max(n.length, l.length) / 3));
    const score =
      distance <= limit
        ? distance
        : n.length >= 3 && (l.includes(n) || n.includes(l))
          ? limit
          : Number.POSITIVE_INFINITY;
    if (score < (best?.score ?? Number.POSITIVE_INFINITY)) best = { name: k, score };
  }
  return best?.name;
}

/** ` (did you mean "x"?)` for a likely typo of a known name, else `''`. */
export function didYouMean(name: string, known: readonly string[]): string {
  const match = closestName(name, known);
  return match === undefined ? '' : ` (did you mean "${match}"?)`;
}
