import type { Observable } from 'rxjs';
import type { EngramEvent } from '@engram/core';
import { clock, fitHeader, progressLine, type ProgressFields } from './progress-line.js';

/** How the run talks to the terminal. */
export type ProgressMode = 'bar' | 'lines' | 'json' | 'quiet';

/** Picks the mode from the flags and whether stdout is a terminal. */
export function progressMode(flags: { quiet?: boolean; json?: boolean }, isTTY: boolean): ProgressMode {
  if (flags.json) return 'json';
  if (flags.quiet) return 'quiet';
  return isTTY ? 'bar' : 'lines';
}

/** Where progress goes: a stream with an optional width (a terminal's `columns`). */
export interface ProgressOutput {
  write(text: string): unknown;
  readonly columns?: number | undefined;
}

const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;

/**
 * Shows a run's progress. On a terminal (`bar`): one line per experience that redraws itself — a bar
 * over all its epochs with the epoch inside, loss, running accuracy, samples/s, the experience's ETA and
 * the run's elapsed time and ETA — fitted to the terminal width; it stays on screen when the experience
 * ends. Otherwise (`lines`) the same figures as plain lines every 2 s. `json` prints every event as one
 * line; `quiet` nothing. Experiences are numbered from 0, as in the accuracy matrix, report and eval.
 * Rates and ETAs are measured from what this process saw, so they stay right after `--resume`;
 * `known.epochs` (the pipeline's) sizes the bar when a resumed run continues mid-epoch. Only observes
 * the events.
 */
export function renderProgress(
  events$: Observable<EngramEvent>,
  mode: ProgressMode,
  out: ProgressOutput = process.stdout,
  known: { epochs?: number } = {},
): void {
  if (mode === 'quiet') return;
  if (mode === 'json') {
    events$.subscribe((e) => out.write(`${JSON.stringify(e)}\n`));
    return;
  }
  let total: number | 'endless' = 0;
  // From the pipeline: a resumed run continues mid-epoch without an epoch-start event.
  let epochs: number | undefined = known.epochs;
  let barOpen = false;
  let lastDraw = Number.NEGATIVE_INFINITY;
  let lastLine = Number.NEGATIVE_INFINITY;
  let expStart: number | undefined;
  let expStartFraction = 0;
  /** First batch this process saw: time (ms) and run fraction, for rates and ETAs that survive a resume. */
  let origin: { time: number; samples: number; runFraction: number } | undefined;
  let samples = 0;
  const width = (): number => Math.max(40, out.columns ?? 80);
  const closeBar = (): void => {
    if (barOpen) out.write('\n');
    barOpen = false;
  };
  const line = (s: string): void => {
    closeBar();
    out.write(`${s}\n`);
  };
  const label = (experience: number): string =>
    total === 'endless' ? `stream exp ${experience}` : `exp ${experience} of ${total}`;
  const runTimes = (time: number, runFraction: number | undefined): string => {
    const elapsed = `run ${clock(time / 1000)}`;
    if (runFraction === undefined || !origin || runFraction <= origin.runFraction) return elapsed;
    const rate = (runFraction - origin.runFraction) / Math.max(1e-9, time - origin.time);
    return `${elapsed}, ETA ${clock((1 - runFraction) / rate / 1000)}`;
  };
  const draw = (fields: ProgressFields, time: number, force: boolean): void => {
    if (mode === 'bar') {
      if (!force && time - lastDraw < 100) return;
      lastDraw = time;
      out.write(`\r${progressLine(fields, width())}\u001b[K`);
      barOpen = true;
    } else if (force || time - lastLine > 2000) {
      lastLine = time;
      const { fraction: _bar, ...plain } = fields;
      line(`  ${progressLine(plain, 1000)}`);
    }
  };

  events$.subscribe((e) => {
    switch (e.type) {
      case 'run-start':
        total = e.experiences;
        for (const l of fitHeader(
          [
            `engram: ${e.name}`,
            e.scenario,
            e.strategies.join('+'),
            `${e.parameters.toLocaleString('en')} parameters`,
            `backend ${e.backend}`,
            `seed ${e.seed}`,
          ],
          width(),
        ))
          line(l);
        break;
      case 'experience-start':
        expStart = undefined;
        for (const l of fitHeader(
          [
            `${total === 'endless' ? 'stream experience' : 'experience'} ` +
              `${e.experience}${total === 'endless' ? '' : ` of ${total} (0-${total - 1})`}`,
            ...(e.classes.length > 0 ? [`classes ${e.classes.join(',')}`] : []),
            ...(e.trainSize !== undefined ? [`${e.trainSize.toLocaleString('en')} samples`] : []),
          ],
          width(),
        ))
          line(l);
        break;
      case 'epoch-start':
        epochs = e.epochs;
        break;
      case 'batch-end': {
        samples += e.size;
        const perEpoch = e.batches;
        const epochFraction = perEpoch ? Math.min(1, e.batch / perEpoch) : undefined;
        const fraction =
          epochFraction === undefined || epochs === undefined
            ? undefined
            : Math.min(1, (e.epoch + epochFraction) / epochs);
        const runFraction =
          fraction === undefined || typeof total !== 'number' || total === 0
            ? undefined
            : (e.experience + fraction) / total;
        if (!origin) origin = { time: e.time, samples, runFraction: runFraction ?? 0 };
        if (expStart === undefined) {
          expStart = e.time;
          expStartFraction = fraction ?? 0;
        }
        const seconds = (e.time - origin.time) / 1000;
        const rate = seconds > 0 ? (samples - origin.samples) / seconds : undefined;
        const expRate =
          fraction !== undefined && fraction > expStartFraction
            ? (fraction - expStartFraction) / Math.max(1e-9, e.time - expStart)
            : undefined;
        draw(
          {
            label: label(e.experience),
            epoch: `epoch ${e.epoch + 1}${epochs !== undefined ? `/${epochs}` : ''}`,
            ...(fraction !== undefined ? { fraction } : {}),
            loss: e.epochLoss.toFixed(4),
            // a regression run's running training error, in target units (it has no accuracy)
            ...(e.epochMae !== undefined ? { mae: e.epochMae.toFixed(4) } : { accuracy: pct(e.epochAccuracy) }),
            ...(rate !== undefined ? { samplesPerSecond: rate.toFixed(0) } : {}),
            ...(expRate !== undefined && fraction !== undefined ? { eta: clock((1 - fraction) / expRate / 1000) } : {}),
            run: runTimes(e.time, runFraction),
          },
          e.time,
          fraction === 1,
        );
        break;
      }
      case 'evaluation': {
        closeBar();
        const when = e.afterExperience < 0 ? 'initial' : `after exp ${e.afterExperience}`;
        if (e.results.some((r) => r.mae !== undefined)) {
          // A regression run: errors in the targets' own units, lower is better.
          const maes = e.results.map((r) => (r.mae ?? NaN).toFixed(4)).join(' ');
          line(`  ${when} — test MAE per experience (target units): ${maes}`);
          break;
        }
        const accs = e.results.map((r) => (r.accuracy * 100).toFixed(1)).join(' ');
        line(`  ${when} — test accuracy per experience (%): ${accs}`);
        break;
      }
      case 'prequential': {
        const seconds = origin ? (e.time - origin.time) / 1000 : 0;
        const rate = origin && seconds > 0 ? (samples - origin.samples) / seconds : undefined;
        // A regression stream: prequential MAE in target units (lower is better) where accuracy would be.
        const mae =
          e.mae === undefined
            ? undefined
            : `${e.mae.toFixed(4)} (window ${(e.windowMae ?? e.mae).toFixed(4)}, fading ${(e.fadingMae ?? e.mae).toFixed(4)})`;
        const accuracy = `${pct(e.accuracy)} (window ${pct(e.windowAccuracy)}, fading ${pct(e.fadingAccuracy)})`;
        const figures = mae !== undefined ? { mae } : { accuracy };
        const fields: ProgressFields = {
          label: `${e.samples.toLocaleString('en')} samples`,
          ...figures,
          ...(rate !== undefined ? { samplesPerSecond: rate.toFixed(0) } : {}),
          run: runTimes(e.time, undefined),
        };
        if (mode === 'bar') draw(fields, e.time, false);
        else if (e.time - lastLine > 2000) {
          lastLine = e.time;
          const what =
            mae !== undefined
              ? `prequential MAE ${mae}, RMSE ${(e.rmse ?? 0).toFixed(4)}`
              : `prequential accuracy ${accuracy}`;
          line(
            `  stream: ${e.samples.toLocaleString('en')} samples, ${what}${rate !== undefined ? `, ${rate.toFixed(0)} samples/s wall` : ''}`,
          );
        }
        break;
      }
      case 'boundary':
        line(`  boundary at step ${e.step}: ${e.reason}`);
        break;
      case 'checkpoint':
        if (mode === 'lines')
          line(`  checkpoint ${e.path} (${(e.bytes / 1e6).toFixed(1)} MB, ${e.seconds.toFixed(2)} s)`);
        break;
      case 'warning':
        line(`  warning: ${e.message}`);
        break;
      case 'run-end':
        closeBar();
        break;
      default:
        break;
    }
  });
}
