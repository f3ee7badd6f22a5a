/**
 * Herding exemplar selection (Welling 2009; iCaRL, Rebuffi et al. 2017, Algorithm 4): picks `m` of the
 * `n` rows of `features` (`[n, dim]` row-major) one at a time, each time the row that brings the mean
 * of the rows picked so far closest to the mean of all rows. Rows are picked at most once. Returns the
 * picked row indices in the order they were picked (a prefix of the list is the best smaller set, which
 * is how iCaRL shrinks an exemplar set).
 */
export function herding(features: Float32Array, n: number, dim: number, m: number): number[] {
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < dim; j++) mean[j] = (mean[j] as number) + (features[i * dim + j] as number) / n;
  const sum = new Float64Array(dim);
  const used = new Uint8Array(n);
  const picked: number[] = [];
  for (let k = 1; k <= Math.min(m, n); k++) {
    let best = -1;
    let bestDistance = Infinity;
    for (let i = 0; i < n; i++) {
      if (used[i]) continue;
      let d = 0;
      for (let j = 0; j < dim; j++) {
        const diff = (mean[j] as number) - ((sum[j] as number) + (features[i * dim + j] as number)) / k;
        d += diff * diff;
      }
      if (d < bestDistance) {
        bestDistance = d;
        best = i;
      }
    }
    used[best] = 1;
    picked.push(best);
    for (let j = 0; j < dim; j++) sum[j] = (sum[j] as number) + (features[best * dim + j] as number);
  }
  return picked;
}

/**
 * Class means for the nearest-mean-of-exemplars classifier: the mean of each class's rows of `features`
 * (`[n, dim]`, L2-normalised), normalised again to unit length (as in iCaRL's code) unless `normalize`
 * is false (then the plain mean). Returns `[dim]` vectors keyed by class.
 */
export function classMeans(
  features: Float32Array,
  labels: Int32Array,
  dim: number,
  normalize = true,
): Map<number, Float32Array> {
  const sums = new Map<number, Float64Array>();
  labels.forEach((c, i) => {
    const s = sums.get(c) ?? new Float64Array(dim);
    for (let j = 0; j < dim; j++) s[j] = (s[j] as number) + (features[i * dim + j] as number);
    sums.set(c, s);
  });
  const out = new Map<number, Float32Array>();
  for (const [c, s] of sums) {
    const count = labels.reduce((a, l) => a + (l === c ? 1 : 0), 0);
    const norm = normalize ? Math.sqrt(s.reduce((a, v) => a + v * v, 0)) || 1 : count;
    out.set(
      c,
      Float32Array.from(s, (v) => v / norm),
    );
  }
  return out;
}
