import type { BenchOptions } from './bench-options.js';
import type { BenchModel } from './bench-models.js';
import { put, reportAgainstAnchors, type BenchRow, type JsonObject } from './bench-report.js';
import { engineEwcOnOverOff, engineSamplesPerSecond } from './engine-run.bench.js';
import { isPytorchError, pytorchSamplesPerSecond, PROJECT_TORCH_SCRIPT, type PytorchAnchor } from './pytorch.bench.js';
import { RoundLog } from './round-log.js';

/** One measured configuration of the backbone section: a model at a batch size, under a JSON key prefix. */
interface BackboneCase {
  readonly key: 'resnet' | 'resnetBatch32' | 'gru';
  readonly model: BenchModel;
  readonly batch: number;
  /** Engine and PyTorch steps per measurement (full run). */
  readonly steps: number;
}

/**
 * The cases, as issue #32 asks: the reduced ResNet-18 at batch 128 and 32, the GRU at 128. Step counts
 * keep each measurement near 10 s on this machine's wasm backend.
 */
export const BACKBONE_CASES: readonly BackboneCase[] = [
  { key: 'resnet', model: 'resnet', batch: 128, steps: 8 },
  { key: 'resnetBatch32', model: 'resnet', batch: 32, steps: 24 },
  { key: 'gru', model: 'gru', batch: 128, steps: 16 },
];

/**
 * Backbones (`--backbone`): training samples/s of the reduced ResNet-18 (32×32×3) and the token GRU
 * through the engine and every PyTorch anchor (`torch_bench.py --model resnet|gru`, the same model and
 * data layout), interleaved round by round; with `--ewc` also EWC on ÷ off on the ResNet as a paired
 * measurement in one run (`engineEwcOnOverOff`). Writes `resnetVsPytorch`, `resnetBatch32VsPytorch`,
 * `gruVsPytorch`, `resnetEwcOnOverOff` and each case's samples/s.
 */
export async function backboneSection(
  o: BenchOptions,
  anchors: readonly PytorchAnchor[],
  json: JsonObject,
  rows: BenchRow[],
  logs: RoundLog[],
): Promise<void> {
  const perAnchor = json['pytorch'] as JsonObject;
  for (const c of BACKBONE_CASES) {
    const steps = o.quick ? 2 : c.steps;
    const log = new RoundLog(c.key);
    logs.push(log);
    for (let r = 0; r < o.repeats; r++) {
      await log.round(async (record) => {
        const runs: Array<() => Promise<void>> = [
          async () =>
            record('engine', (await engineSamplesPerSecond(c.model, c.batch, steps * c.batch, false)).samplesPerSecond),
        ];
        if (o.ewc && c.key === 'resnet')
          runs.push(async () =>
            record('ewcPaired', await engineEwcOnOverOff(c.model, c.batch, (o.quick ? 4 : 4 * c.steps) * c.batch, 2)),
          );
        for (const anchor of anchors)
          runs.push(async () => {
            const t = pytorchSamplesPerSecond(anchor, PROJECT_TORCH_SCRIPT, c.model, c.batch, false, o.threads, steps);
            if (isPytorchError(t)) process.stderr.write(`pytorch (${anchor.python}, ${c.key}): ${t.error}\n`);
            else record(anchor.key, t.samplesPerSecond);
          });
        for (const run of r % 2 === 0 ? runs : runs.reverse()) await run();
      });
    }
    put(json, `${c.key}Engine`, log.value('engine'));
    if (!Number.isNaN(log.value('engine')))
      rows.push({ name: `${c.key} engram run`, value: log.value('engine'), unit: 'samples/s' });
    if (c.key === 'resnet') put(json, 'resnetEwcOnOverOff', log.value('ewcPaired'));
    reportAgainstAnchors(log, anchors, rows, {
      label: c.key,
      entries: perAnchor,
      newEntry: (a) => ({ python: a.python, torch: a.torch }),
      anchorValues: (a) => ({ [c.key]: log.value(a.key), [`${c.key}VsPytorch`]: log.ratio('engine', a.key) }),
      fastestTarget: json,
      fastestValues: (best) => ({
        [`${c.key}Pytorch`]: log.value(best.key),
        [`${c.key}VsPytorch`]: log.ratio('engine', best.key),
      }),
    });
  }
}
