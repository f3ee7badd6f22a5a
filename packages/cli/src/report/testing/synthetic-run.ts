import { EventBus, RunRecorder, type RunSummary } from '@engram/core/internal';

/** Variations of a synthetic run. */
export interface SyntheticRunOptions {
  /** Experience runs: stop (SIGINT) after this many experiences, as a signal would. */
  stopAfter?: number;
  /** Streams: bad records the source refused (reported as a warning). */
  badRecords?: number;
  /** Experience runs: epoch-end events carry validation figures; experience 1 stops early after epoch 0. */
  validation?: boolean;
}

/**
 * Writes a complete run directory (metrics.jsonl, summary.json, accuracy-matrix.csv) from synthetic
 * events through the real {@link RunRecorder}, for report tests. `mode: 'experiences'` plays three
 * class-incremental experiences with forgetting; `mode: 'stream'` plays 300 prequential steps of 16
 * samples with drift boundaries at steps 99 and 199 (samples 1,600 and 3,200). Accuracies are
 * deterministic functions of the indices.
 */
export async function writeSyntheticRun(
  outDir: string,
  mode: 'experiences' | 'stream',
  strategy = 'ewc',
  options: SyntheticRunOptions = {},
): Promise<RunSummary> {
  const bus = new EventBus();
  const meta = {
    name: `synthetic-${mode}`,
    seed: 3,
    strategies: [strategy],
    scenario: mode === 'stream' ? 'drifting-stream' : 'split-mnist',
    backend: 'cpu',
    pipeline: { name: `synthetic-${mode}`, strategies: [{ kind: strategy }] },
  };
  const recorder = new RunRecorder(outDir, meta);
  recorder.attach(bus.events$);
  const T = mode === 'stream' ? 1 : 3;
  bus.emit({
    type: 'run-start',
    name: meta.name,
    seed: 3,
    backend: 'cpu',
    mode,
    experiences: mode === 'stream' ? 'endless' : T,
    scenario: meta.scenario,
    strategies: [strategy],
    inputShape: [8],
    numClasses: 6,
    parameters: 60,
  });
  if (mode === 'stream') {
    let correct = 0;
    for (let step = 0; step < 300; step++) {
      const phase = step < 100 ? 0 : step < 200 ? 1 : 2;
      const acc = 0.4 + 0.5 * (1 - Math.exp(-((step % 100) + 1) / 20)) - 0.05 * phase;
      correct += acc * 16;
      bus.emit({
        type: 'batch-end',
        experience: phase,
        epoch: 0,
        batch: step,
        step,
        size: 16,
        loss: 1.5 - acc,
        penalty: 0,
        accuracy: acc,
        epochLoss: 1.5 - acc,
        epochAccuracy: acc,
        samplesPerSecond: 500,
      });
      bus.emit({
        type: 'prequential',
        step,
        samples: 16 * (step + 1),
        accuracy: correct / (16 * (step + 1)),
        windowAccuracy: acc,
        fadingAccuracy: (acc + correct / (16 * (step + 1))) / 2,
        loss: 1.5 - acc,
      });
      if (step === 99 || step === 199) bus.emit({ type: 'boundary', step, reason: 'page-hinkley drift' });
    }
    if (options.badRecords !== undefined)
      bus.emit({
        type: 'warning',
        message: `synthetic: ${options.badRecords} bad records`,
        badRecords: { source: 'synthetic', total: options.badRecords },
      });
    bus.emit({ type: 'run-end', wallSeconds: 3, samplesPerSecond: 1600, steps: 300 });
  } else {
    const acc = (after: number, j: number): number =>
      j > after ? 0.1 + 0.02 * j : 0.95 - 0.2 * (after - j) - 0.03 * j;
    bus.emit({
      type: 'evaluation',
      afterExperience: -1,
      results: [0, 1, 2].map((j) => ({ experience: j, accuracy: 0.15 + 0.01 * j, loss: 1.8, count: 100 })),
    });
    let step = 0;
    const ran = Math.min(T, options.stopAfter ?? T);
    for (let e = 0; e < ran; e++) {
      bus.emit({ type: 'experience-start', experience: e, classes: [2 * e, 2 * e + 1], trainSize: 320 });
      for (let epoch = 0; epoch < 2; epoch++) {
        bus.emit({ type: 'epoch-start', experience: e, epoch, epochs: 2 });
        for (let b = 0; b < 10; b++) {
          bus.emit({
            type: 'batch-end',
            experience: e,
            epoch,
            batch: b,
            batches: 10,
            step,
            size: 32,
            loss: 1.2 * Math.exp(-(epoch * 10 + b) / 8) + 0.1,
            penalty: 0.01 * e,
            accuracy: 0.5,
            epochLoss: 0.5,
            epochAccuracy: 0.5,
            samplesPerSecond: 800,
          });
          step++;
        }
        const stop = options.validation === true && e === 1 && epoch === 0;
        bus.emit({
          type: 'epoch-end',
          experience: e,
          epoch,
          loss: 0.5 / (epoch + 1),
          accuracy: 0.8,
          ...(options.validation
            ? { validationLoss: 0.6 + 0.1 * e - 0.05 * epoch, validationAccuracy: 0.7 + 0.01 * epoch }
            : {}),
          ...(stop ? { stoppedEarly: true } : {}),
        });
        if (stop) break;
      }
      bus.emit({ type: 'experience-end', experience: e, samples: 640, wallSeconds: 0.8, rssBytes: 200_000_000 });
      bus.emit({
        type: 'evaluation',
        afterExperience: e,
        results: [0, 1, 2].map((j) => ({
          experience: j,
          accuracy: acc(e, j),
          loss: 1 - acc(e, j),
          count: 100,
          perClassCorrect: [0, 1, 2, 3, 4, 5].map((c) => (Math.floor(c / 2) === j ? 45 : 0)),
          perClassCount: [0, 1, 2, 3, 4, 5].map((c) => (Math.floor(c / 2) === j ? 50 : 0)),
        })),
      });
    }
    bus.emit({
      type: 'run-end',
      wallSeconds: 2.6 * (ran / T),
      samplesPerSecond: 738,
      steps: step,
      ...(ran < T ? { status: 'stopped' as const, stopped: 'SIGINT' } : {}),
    });
  }
  bus.complete();
  return recorder.finish();
}
