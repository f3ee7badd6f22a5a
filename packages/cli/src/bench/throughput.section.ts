import { bareLoopSamplesPerSecond } from './bare-loop.bench.js';
import type { BenchOptions } from './bench-options.js';
import { meanRate } from './bench-stats.js';
import { engineEwcOnOverOff, engineOverBarePaired, engineSamplesPerSecond } from './engine-run.bench.js';
import { put, reportAgainstAnchors, type BenchRow, type JsonObject } from './bench-report.js';
import { isPytorchError, pytorchSamplesPerSecond, type PytorchAnchor } from './pytorch.bench.js';
import { RoundLog } from './round-log.js';

// Kept for the sections and tools that import the report helpers from here.
export { fastest, put, type BenchRow, type JsonObject, type JsonValue } from './bench-report.js';

/**
 * Length and block length of the paired EWC run ({@link engineEwcOnOverOff}) per model. Blocks of 5
 * MLP steps (≈ 15 ms) or 3 CNN steps: the host's speed moved by ±30 % between 100 ms windows here, so
 * longer blocks leave the drift in the ratio. 4,800 MLP steps: with 1,200, runs whose blocks did the
 * same work still gave 0.87–1.06. 240 CNN steps take about as long.
 */
export const PAIRED_EWC: Readonly<Record<'mlp' | 'cnn', { readonly steps: number; readonly blockSteps: number }>> = {
  mlp: { steps: 4800, blockSteps: 5 },
  cnn: { steps: 240, blockSteps: 3 },
};
/** The paired EWC run of a `--quick` smoke bench. */
const QUICK_PAIRED_EWC = { steps: 8, blockSteps: 2 } as const;

/**
 * Training samples/s of the MLP and the CNN (batch 128, Adam) through the engine, a bare tfjs loop
 * and every PyTorch anchor, EWC on and off, interleaved round by round (the order reverses every
 * round; with `--ewc` the engine runs off, on, on, off and each side is the mean of its two runs).
 * `ewcOnOverOff` (`cnnEwcOnOverOff`) is the paired measurement of {@link engineEwcOnOverOff}, one run
 * whose steps alternate with and without EWC: separate runs put the host's drift into the ratio (it
 * moved by ±20 % between one-second windows here, more than the 5–10 % to resolve), so their ratio
 * is reported as `ewcOnOverOffRuns` (`cnnEwcOnOverOffRuns`) beside it.
 * Top-level keys keep their names (`mlpEngine`, `mlpVsPytorch`, `ewcOnOverOff`, …); the PyTorch
 * keys (`mlpPytorch`, `mlpVsPytorch`, …) are against the faster anchor, and `pytorch.<anchor>` holds
 * every anchor's own.
 */
export async function throughputSection(
  o: BenchOptions,
  anchors: readonly PytorchAnchor[],
  json: JsonObject,
  rows: BenchRow[],
  logs: RoundLog[],
): Promise<void> {
  const batch = 128;
  const perAnchor = json['pytorch'] as JsonObject;
  for (const model of o.models) {
    const steps = o.quick ? 4 : model === 'mlp' ? 300 : 30;
    const samples = steps * batch;
    const torchSteps = o.quick ? 2 : model === 'mlp' ? 100 : 20;
    const log = new RoundLog(model);
    logs.push(log);
    for (let r = 0; r < o.repeats; r++) {
      await log.round(async (record) => {
        const engine = async (ewc: boolean): Promise<number> =>
          (await engineSamplesPerSecond(model, batch, samples, ewc)).samplesPerSecond;
        const pairedBare = o.quick ? QUICK_PAIRED_EWC : PAIRED_EWC[model];
        const runs: Array<() => Promise<void>> = [
          async () => record('bare', await bareLoopSamplesPerSecond(model, batch, steps)),
          async () =>
            record(
              'barePaired',
              await engineOverBarePaired(model, batch, pairedBare.steps * batch, pairedBare.blockSteps),
            ),
        ];
        if (o.ewc) {
          // EWC off and on as one off-on-on-off unit: both sides are centred on the same moment, so a
          // drift of the machine's speed during the unit cancels out of the on ÷ off ratio.
          runs.push(async () => {
            const off = await engine(false);
            const on = [await engine(true), await engine(true)];
            record('engine', meanRate(off, await engine(false)));
            record('engineEwc', meanRate(on[0] as number, on[1] as number));
          });
          const paired = o.quick ? QUICK_PAIRED_EWC : PAIRED_EWC[model];
          runs.push(async () =>
            record('ewcPaired', await engineEwcOnOverOff(model, batch, paired.steps * batch, paired.blockSteps)),
          );
        } else {
          runs.push(async () => record('engine', await engine(false)));
        }
        for (const anchor of o.pytorch ? anchors : []) {
          const script = o.pytorch as string;
          for (const ewc of o.ewc ? [false, true] : [false]) {
            runs.push(async () => {
              const t = pytorchSamplesPerSecond(anchor, script, model, batch, ewc, o.threads, torchSteps);
              if (isPytorchError(t))
                process.stderr.write(`pytorch (${anchor.python}, ${model}${ewc ? ' ewc' : ''}): ${t.error}\n`);
              else record(`${anchor.key}${ewc ? 'Ewc' : ''}`, t.samplesPerSecond);
            });
          }
        }
        // Reverse the order every other round, so that no measurement always runs first or last.
        for (const run of r % 2 === 0 ? runs : runs.reverse()) await run();
      });
    }
    const add = (name: string, key: string, value: number): void => {
      put(json, key, value);
      if (!Number.isNaN(value)) rows.push({ name: `${model} ${name}`, value, unit: 'samples/s' });
    };
    add('bare tfjs loop', `${model}Bare`, log.value('bare'));
    add('engram run', `${model}Engine`, log.value('engine'));
    put(json, `${model}EngineOverBare`, log.ratio('engine', 'bare'));
    // The same ratio measured step by step inside one run (engine-over-bare.ts): the host's spread cancels.
    put(json, `${model}EngineOverBarePaired`, log.value('barePaired'));
    add('engram run + ewc', `${model}EngineEwc`, log.value('engineEwc'));
    const ewcKey = model === 'mlp' ? 'ewcOnOverOff' : `${model}EwcOnOverOff`;
    put(json, ewcKey, log.value('ewcPaired'));
    put(json, `${ewcKey}Runs`, log.ratio('engineEwc', 'engine'));
    reportAgainstAnchors(log, anchors, rows, {
      label: model,
      entries: perAnchor,
      newEntry: (a) => ({ python: a.python, torch: a.torch }),
      anchorValues: (a) => ({
        [model]: log.value(a.key),
        [`${model}Ewc`]: log.value(`${a.key}Ewc`),
        [`${model}VsPytorch`]: log.ratio('engine', a.key),
        [`${model}EwcOnOverOff`]: log.ratio(`${a.key}Ewc`, a.key),
      }),
      fastestTarget: json,
      fastestValues: (best) => ({
        [`${model}PytorchAnchor`]: best.key,
        [`${model}Pytorch`]: log.value(best.key),
        [`${model}VsPytorch`]: log.ratio('engine', best.key),
        [`${model}PytorchEwc`]: log.value(`${best.key}Ewc`),
        [`${model}PytorchEwcOnOverOff`]: log.ratio(`${best.key}Ewc`, best.key),
      }),
    });
  }
}
