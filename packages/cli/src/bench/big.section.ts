import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchOptions } from './bench-options.js';
import { put, reportAgainstAnchors, type BenchRow, type JsonObject } from './bench-report.js';
import { isPytorchError, pytorchSamplesPerSecond, PROJECT_TORCH_SCRIPT, type PytorchAnchor } from './pytorch.bench.js';
import { RoundLog } from './round-log.js';

const CHILD = fileURLToPath(new URL('./big-model.main.js', import.meta.url));

/** Runs one big-model child; its JSON line, or the reason it failed. */
function runChild(
  model: string,
  samples: number,
  extra: readonly string[],
): Record<string, unknown> | { error: string } {
  const r = spawnSync(process.execPath, [CHILD, model, String(samples), ...extra], {
    encoding: 'utf8',
    timeout: 1_800_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  if (r.status !== 0)
    return { error: (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').slice(-1)[0] ?? 'failed' };
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as Record<string, unknown>;
  } catch {
    return { error: `unexpected output: ${r.stdout.slice(0, 200)}` };
  }
}

const num = (x: unknown): number => (typeof x === 'number' ? x : NaN);

/**
 * Bigger models (`--big`): the MLP 784-2048-2048-2048-10 (10M parameters) and the CNN 64/128/256.
 * Per model and round: a child process trains it through the engine (samples/s, its peak RSS) and,
 * for the MLP, checkpoints it with Adam state (write, verified read) and times EWC's Fisher on 1,000
 * samples (the CNN's Fisher, which takes the per-sample loop, in the first round only); every PyTorch anchor trains the
 * same model (`torch_bench.py --model mlp-big|cnn-big`, samples/s and its peak RSS). Writes `big`.
 */
export async function bigSection(
  o: BenchOptions,
  anchors: readonly PytorchAnchor[],
  json: JsonObject,
  rows: BenchRow[],
  logs: RoundLog[],
): Promise<void> {
  const big: JsonObject = {};
  json['big'] = big;
  for (const model of ['mlp-big', 'cnn-big'] as const) {
    const steps = o.quick ? 2 : model === 'mlp-big' ? 30 : 20;
    const fisherSamples = o.quick ? 64 : 1000;
    const log = new RoundLog(model);
    logs.push(log);
    for (let r = 0; r < o.repeats; r++) {
      // The 10M-parameter MLP is checkpointed and its Fisher timed every round; the CNN's Fisher (the
      // per-sample loop, slow) once.
      const fisher = ['--fisher', String(fisherSamples)];
      const extra = model === 'mlp-big' ? ['--checkpoint', ...fisher] : r === 0 ? fisher : [];
      await log.round(async (record) => {
        const runs: Array<() => Promise<void>> = [
          async () => {
            const c = runChild(model, steps * 128, extra);
            if ('error' in c) {
              process.stderr.write(`big ${model}: ${String(c.error)}\n`);
              return;
            }
            record('engine', num(c['samplesPerSecond']));
            record('engineRss', num(c['peakRssBytes']));
            const ck = c['checkpoint'] as Record<string, unknown> | undefined;
            if (ck) {
              record('ckptParameters', num(ck['parameters']));
              record('ckptBytes', num(ck['bytes']));
              record('ckptWrite', num(ck['writeSeconds']));
              record('ckptRead', num(ck['readSeconds']));
            }
            const fi = c['fisher'] as Record<string, unknown> | undefined;
            if (fi) {
              record('fisherSeconds', num(fi['seconds']));
              record(`fisherMethod:${String(fi['method'])}`, 1);
            }
          },
        ];
        for (const anchor of anchors) {
          runs.push(async () => {
            const t = pytorchSamplesPerSecond(
              anchor,
              PROJECT_TORCH_SCRIPT,
              model,
              128,
              false,
              o.threads,
              o.quick ? 2 : 10,
            );
            if (isPytorchError(t)) {
              process.stderr.write(`pytorch (${anchor.python}, ${model}): ${t.error}\n`);
              return;
            }
            record(anchor.key, t.samplesPerSecond);
            if (t.peakRssBytes !== undefined) record(`${anchor.key}Rss`, t.peakRssBytes);
          });
        }
        for (const run of r % 2 === 0 ? runs : runs.reverse()) await run();
      });
    }
    const entry: JsonObject = {};
    put(entry, 'samplesPerSecond', log.value('engine'));
    put(entry, 'peakRssBytes', log.value('engineRss'));
    if (!Number.isNaN(log.value('ckptWrite'))) {
      entry['checkpoint'] = {
        parameters: log.value('ckptParameters'),
        bytes: log.value('ckptBytes'),
        writeSeconds: log.value('ckptWrite'),
        readSeconds: log.value('ckptRead'),
        withAdamState: true,
      };
    }
    if (!Number.isNaN(log.value('fisherSeconds'))) {
      entry['fisher'] = {
        samples: fisherSamples,
        seconds: log.value('fisherSeconds'),
        method: Number.isNaN(log.value('fisherMethod:batched')) ? 'per-sample' : 'batched',
      };
    }
    // Placed before the fastest anchor's keys (the JSON's key order), removed again if no anchor ran.
    const perAnchor: JsonObject = {};
    entry['pytorch'] = perAnchor;
    reportAgainstAnchors(log, anchors, rows, {
      label: model,
      entries: perAnchor,
      newEntry: (a) => ({ torch: a.torch }),
      anchorValues: (a) => ({
        samplesPerSecond: log.value(a.key),
        peakRssBytes: log.value(`${a.key}Rss`),
        vsPytorch: log.ratio('engine', a.key),
      }),
      onlyMeasured: true,
      fastestTarget: entry,
      fastestValues: (best) => ({ vsPytorch: log.ratio('engine', best.key), pytorchAnchor: best.key }),
    });
    if (Object.keys(perAnchor).length === 0) delete entry['pytorch'];
    big[model] = entry;
    if (!Number.isNaN(log.value('engine')))
      rows.push({ name: `${model} engram run`, value: log.value('engine'), unit: 'samples/s' });
  }
}
