import { percentile } from './bench-stats.js';
import type { BenchOptions } from './bench-options.js';
import { bareOnlineSteps, engineOnlineSteps } from './online.bench.js';
import { isPytorchError, pytorchOnlineLatency, type PytorchAnchor } from './pytorch.bench.js';
import { RoundLog } from './round-log.js';
import { fastest, put, type BenchRow, type JsonObject } from './bench-report.js';

/** Batch sizes of the online latency measurement. */
export const ONLINE_BATCHES = [1, 8, 32] as const;

/**
 * Online learning latency: p50/p99 of one prequential step (predict + train) of the MLP at batch 1,
 * 8 and 32 through the engine's stream path, a bare tfjs step and every PyTorch anchor, interleaved
 * round by round. Per batch size it writes `online.batch<N>` with `p50Ms`, `p99Ms` (the engine's),
 * `vsPytorch` (engine p50 ÷ the faster anchor's p50: ≤ 1 means Engram's step is as fast or faster),
 * `overheadFraction` ((engine p50 − bare p50) ÷ engine p50: the share of the step spent in the engine
 * around tfjs), the bare step's and every anchor's p50/p99. Each value is the median over quiet rounds
 * of the per-round figure.
 */
export async function onlineSection(
  o: BenchOptions,
  anchors: readonly PytorchAnchor[],
  json: JsonObject,
  rows: BenchRow[],
  logs: RoundLog[],
): Promise<void> {
  const online: JsonObject = {};
  json['online'] = online;
  for (const batch of ONLINE_BATCHES) {
    const steps = o.quick ? 30 : batch === 1 ? 2000 : batch === 8 ? 1000 : 500;
    const warmup = o.quick ? 5 : 100;
    const log = new RoundLog(`online batch ${batch}`);
    logs.push(log);
    for (let r = 0; r < o.repeats; r++) {
      await log.round(async (record) => {
        const keep = (key: string, stepMs: readonly number[]): void => {
          record(`${key}P50`, percentile(stepMs, 50));
          record(`${key}P99`, percentile(stepMs, 99));
        };
        const runs: Array<() => Promise<void>> = [
          async () => keep('engine', (await engineOnlineSteps(batch, steps, warmup)).stepMs),
          async () => keep('bare', (await bareOnlineSteps(batch, steps, warmup)).stepMs),
        ];
        for (const anchor of o.pytorch ? anchors : []) {
          runs.push(async () => {
            const t = pytorchOnlineLatency(anchor, batch, steps, warmup, o.threads);
            if (isPytorchError(t)) {
              process.stderr.write(`pytorch (${anchor.python}, online batch ${batch}): ${t.error}\n`);
              return;
            }
            record(`${anchor.key}P50`, t.p50Ms);
            record(`${anchor.key}P99`, t.p99Ms);
          });
        }
        for (const run of r % 2 === 0 ? runs : runs.reverse()) await run();
      });
    }
    const entry: JsonObject = { steps };
    put(entry, 'p50Ms', log.value('engineP50'));
    put(entry, 'p99Ms', log.value('engineP99'));
    // The faster PyTorch has the lowest p50: score by minus p50.
    const best = fastest(anchors, (a) => -log.value(`${a.key}P50`));
    if (best) {
      put(entry, 'vsPytorch', log.ratio('engineP50', `${best.key}P50`));
      put(entry, 'vsPytorchP99', log.ratio('engineP99', `${best.key}P99`));
      entry['pytorchAnchor'] = best.key;
    }
    put(
      entry,
      'overheadFraction',
      log.derived((get) => (get('engineP50') - get('bareP50')) / get('engineP50')),
    );
    put(entry, 'bareP50Ms', log.value('bareP50'));
    put(entry, 'bareP99Ms', log.value('bareP99'));
    const perAnchor: JsonObject = {};
    for (const a of anchors) {
      const e: JsonObject = { torch: a.torch };
      put(e, 'p50Ms', log.value(`${a.key}P50`));
      put(e, 'p99Ms', log.value(`${a.key}P99`));
      put(e, 'vsPytorch', log.ratio('engineP50', `${a.key}P50`));
      if (Object.keys(e).length > 1) perAnchor[a.key] = e;
    }
    if (Object.keys(perAnchor).length > 0) entry['pytorch'] = perAnchor;
    online[`batch${batch}`] = entry;
    const row = (name: string, key: string): void => {
      const v = log.value(key);
      if (!Number.isNaN(v)) rows.push({ name: `online b${batch} ${name}`, value: v, unit: 'ms' });
    };
    row('engram p50', 'engineP50');
    row('engram p99', 'engineP99');
    row('bare tfjs p50', 'bareP50');
    for (const a of anchors) row(`pytorch ${a.torch} p50`, `${a.key}P50`);
  }
}
