import { createReadStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { RUN_FILES, type EngramEvent, type RunSummary } from '@engram/core';
import { SeriesDownsampler, type SeriesPoint } from '@engram/core/internal';
import { MinMaxSeries } from './min-max-series.js';
import type { ValidationPoint } from './validation-spec.js';

/** One point of "accuracy on experience j after training experience i" (i = −1: untrained model). */
export interface AccuracyPoint {
  afterExperience: number;
  experience: number;
  accuracy: number;
}

/** What the report needs from a run directory: the summary and the series read from metrics.jsonl. */
export interface RunData {
  dir: string;
  summary: RunSummary;
  /** Every evaluation result on a non-empty test set, in order (an empty test set has no accuracy to plot). */
  accuracy: AccuracyPoint[];
  /** Training loss of every logged batch (x = step, or samples for streams); long runs keep each bucket's min and max. */
  loss: SeriesPoint[];
  /**
   * Where each experience starts on the loss curve's x axis: the step of its first batch (from the
   * `experience-start` event's step count; older metrics without it fall back to the first logged batch).
   */
  experienceStarts: { experience: number; step: number }[];
  /**
   * Prequential figures over samples seen (x = samples, downsampled), empty for experience runs. A
   * regression stream's series hold its prequential MAE (cumulative, window, fading) instead: see `prequentialMetric`.
   */
  prequential: { accuracy: SeriesPoint[]; windowAccuracy: SeriesPoint[]; fadingAccuracy: SeriesPoint[] };
  /** What the prequential series measure: `accuracy` (fractions), or `mae` (a regression stream, target units). */
  prequentialMetric: 'accuracy' | 'mae';
  /** Detected drift boundaries, at the step and the number of samples seen when they were detected. */
  drift: { step: number; samples: number; reason: string }[];
  /** x of the loss curve: optimizer steps (experience runs) or samples seen (streams). */
  axis: 'steps' | 'samples';
  /** Per-epoch validation figures (runs with `training.validation`), the last of each (experience, epoch). */
  validation: ValidationPoint[];
  /** Experiences the run was set up for (`run-start`), `'endless'` for a stream, null if unknown. */
  plannedExperiences: number | 'endless' | null;
}

const MAX_POINTS = 400;
/** Loss buckets: up to 2,000 logged batches are drawn one by one, longer runs as min/max pairs. */
const LOSS_BUCKETS = 1000;

/** Reads `dir/summary.json` and streams `dir/metrics.jsonl` (any size; series are downsampled). */
export async function loadRun(dir: string): Promise<RunData> {
  const summaryPath = join(dir, RUN_FILES.summary);
  const metricsPath = join(dir, RUN_FILES.metrics);
  for (const path of [summaryPath, metricsPath]) {
    if (!existsSync(path)) throw new Error(`${path} not found: is ${dir} the --out directory of an engram run?`);
  }
  let summary: RunSummary;
  try {
    summary = JSON.parse(await readFile(summaryPath, 'utf8')) as RunSummary;
  } catch (err) {
    throw new Error(`${summaryPath} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  if (typeof summary !== 'object' || summary === null || !Array.isArray(summary.accuracyMatrix)) {
    throw new Error(`${summaryPath} is not an engram run summary (no accuracyMatrix)`);
  }
  const axis = summary.mode === 'stream' ? 'samples' : 'steps';
  const data: RunData = {
    dir,
    summary,
    accuracy: [],
    loss: [],
    experienceStarts: [],
    prequential: { accuracy: [], windowAccuracy: [], fadingAccuracy: [] },
    prequentialMetric: 'accuracy',
    drift: [],
    validation: [],
    axis,
    plannedExperiences: null,
  };
  // Streams log a prequential event every `logEvery` steps; samples at other steps are interpolated
  // from the latest one (batches of one size).
  let seen = { step: -1, samples: 0 };
  const samplesAt = (step: number): number =>
    seen.step < 0 ? 0 : Math.round(seen.samples + (step - seen.step) * (seen.samples / (seen.step + 1)));
  const loss = new MinMaxSeries(LOSS_BUCKETS);
  const pre = {
    accuracy: new SeriesDownsampler(MAX_POINTS),
    windowAccuracy: new SeriesDownsampler(MAX_POINTS),
    fadingAccuracy: new SeriesDownsampler(MAX_POINTS),
  };
  const started = new Set<number>();
  const lines = createInterface({ input: createReadStream(metricsPath, 'utf8'), crlfDelay: Infinity });
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    if (line.trim() === '') continue;
    let event: EngramEvent;
    try {
      event = JSON.parse(line) as EngramEvent;
    } catch {
      throw new Error(`${metricsPath} line ${lineNo} is not valid JSON`);
    }
    switch (event.type) {
      case 'evaluation':
        // a regression run's results carry errors (its summary's MAE matrix), not accuracies; an empty
        // test set has no accuracy to plot
        for (const r of event.results)
          if (r.mae === undefined && r.count > 0)
            data.accuracy.push({
              afterExperience: event.afterExperience,
              experience: r.experience,
              accuracy: r.accuracy,
            });
        break;
      case 'run-start':
        data.plannedExperiences = event.experiences;
        break;
      case 'experience-start':
        if (event.step !== undefined && !started.has(event.experience)) {
          started.add(event.experience);
          data.experienceStarts.push({ experience: event.experience, step: event.step + 1 });
        }
        break;
      case 'batch-end':
        loss.add(axis === 'samples' ? samplesAt(event.step) : event.step, event.loss);
        if (!started.has(event.experience)) {
          // metrics written before experience-start had a step: the first logged batch of epoch 0 knows its index
          started.add(event.experience);
          data.experienceStarts.push({
            experience: event.experience,
            step: event.epoch === 0 ? event.step - event.batch + 1 : event.step,
          });
        }
        break;
      case 'prequential':
        seen = { step: event.step, samples: event.samples };
        if (event.mae !== undefined) {
          // a regression stream: its prequential MAE where a classification stream's accuracy goes
          data.prequentialMetric = 'mae';
          pre.accuracy.add(event.samples, event.mae);
          pre.windowAccuracy.add(event.samples, event.windowMae ?? event.mae);
          pre.fadingAccuracy.add(event.samples, event.fadingMae ?? event.mae);
          break;
        }
        pre.accuracy.add(event.samples, event.accuracy);
        pre.windowAccuracy.add(event.samples, event.windowAccuracy);
        pre.fadingAccuracy.add(event.samples, event.fadingAccuracy);
        break;
      case 'epoch-end':
        if (event.validationLoss !== undefined) {
          // a resumed run may log an epoch again: the last one counts
          const last = data.validation.findIndex((v) => v.experience === event.experience && v.epoch === event.epoch);
          if (last >= 0) data.validation.splice(last);
          data.validation.push({
            index: data.validation.length,
            experience: event.experience,
            epoch: event.epoch,
            loss: event.validationLoss,
            accuracy: event.validationAccuracy ?? null,
            stoppedEarly: event.stoppedEarly === true,
          });
        }
        break;
      case 'boundary':
        data.drift.push({ step: event.step, samples: samplesAt(event.step), reason: event.reason });
        break;
      default:
        break;
    }
  }
  data.loss = loss.series();
  data.prequential = {
    accuracy: pre.accuracy.series(),
    windowAccuracy: pre.windowAccuracy.series(),
    fadingAccuracy: pre.fadingAccuracy.series(),
  };
  return data;
}
