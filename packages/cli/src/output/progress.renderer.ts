import cliProgress from 'cli-progress';
import type { Observable } from 'rxjs';
import type { EngramEvent } from '@engram/core';

/** How the run talks to the terminal. */
export type ProgressMode = 'bar' | 'lines' | 'json' | 'quiet';

/** Picks the mode from the flags and whether stdout is a terminal. */
export function progressMode(flags: { quiet?: boolean; json?: boolean }, isTTY: boolean): ProgressMode {
  if (flags.json) return 'json';
  if (flags.quiet) return 'quiet';
  return isTTY ? 'bar' : 'lines';
}

/**
 * Shows a run's progress: a cli-progress bar per experience on a terminal (experience x/n, epoch,
 * batch, loss, running accuracy, samples/s, ETA), plain periodic lines otherwise, NDJSON events with
 * `json`, nothing with `quiet`. Only observes the events.
 */
export function renderProgress(events$: Observable<EngramEvent>, mode: ProgressMode, out: NodeJS.WriteStream = process.stdout): void {
  if (mode === 'quiet') return;
  if (mode === 'json') {
    events$.subscribe((e) => out.write(`${JSON.stringify(e)}\n`));
    return;
  }
  let total: number | 'endless' = 0;
  let epochs = 1;
  let bar: cliProgress.SingleBar | undefined;
  let lastLine = 0;
  const line = (s: string): void => {
    out.write(`${s}\n`);
  };
  events$.subscribe((e) => {
    switch (e.type) {
      case 'run-start':
        total = e.experiences;
        line(`engram: ${e.name} — ${e.scenario}, ${e.strategies.join('+')}, ${e.parameters.toLocaleString('en')} parameters, backend ${e.backend}, seed ${e.seed}`);
        break;
      case 'experience-start':
        if (mode === 'lines') line(`experience ${e.experience + 1}/${total} — classes ${e.classes.join(',')}${e.trainSize !== undefined ? `, ${e.trainSize} samples` : ''}`);
        break;
      case 'epoch-start':
        epochs = e.epochs;
        if (mode === 'bar') {
          bar?.stop();
          bar = new cliProgress.SingleBar(
            { format: `exp {exp}/${total} epoch {epoch}/${epochs} [{bar}] {value}/{total} | loss {loss} | acc {acc} | {sps} samples/s | ETA {eta_formatted}`, hideCursor: true, clearOnComplete: false, stream: out },
            cliProgress.Presets.shades_classic,
          );
          bar.start(1, 0, { exp: e.experience + 1, epoch: e.epoch + 1, loss: '-', acc: '-', sps: '-' });
        }
        break;
      case 'batch-end': {
        const fields = { exp: e.experience + 1, epoch: e.epoch + 1, loss: e.epochLoss.toFixed(4), acc: `${(e.epochAccuracy * 100).toFixed(1)}%`, sps: e.samplesPerSecond.toFixed(0) };
        if (bar) {
          bar.setTotal(e.batches ?? e.batch);
          bar.update(e.batch, fields);
        } else if (mode === 'lines' && (e.time - lastLine > 2000 || e.batch === e.batches)) {
          lastLine = e.time;
          line(`  exp ${fields.exp}/${total} epoch ${fields.epoch}/${epochs} batch ${e.batch}${e.batches ? `/${e.batches}` : ''} loss ${fields.loss} acc ${fields.acc} ${fields.sps} samples/s`);
        }
        break;
      }
      case 'evaluation': {
        bar?.stop();
        bar = undefined;
        const accs = e.results.map((r) => `${(r.accuracy * 100).toFixed(1)}`).join(' ');
        line(`  ${e.afterExperience < 0 ? 'initial' : `after exp ${e.afterExperience + 1}`} accuracy per experience (%): ${accs}`);
        break;
      }
      case 'prequential':
        if (e.time - lastLine > 2000) {
          lastLine = e.time;
          line(`  stream: ${e.samples} samples, prequential accuracy ${(e.accuracy * 100).toFixed(1)}% (window ${(e.windowAccuracy * 100).toFixed(1)}%)`);
        }
        break;
      case 'boundary':
        line(`  boundary at step ${e.step}: ${e.reason}`);
        break;
      case 'checkpoint':
        if (mode === 'lines') line(`  checkpoint ${e.path} (${(e.bytes / 1e6).toFixed(1)} MB, ${e.seconds.toFixed(2)} s)`);
        break;
      case 'warning':
        line(`  warning: ${e.message}`);
        break;
      case 'run-end':
        bar?.stop();
        bar = undefined;
        break;
      default:
        break;
    }
  });
}
