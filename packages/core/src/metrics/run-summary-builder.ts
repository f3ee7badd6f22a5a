import { regressionErrors, type RegressionErrors } from './error-matrix.js';
import type { EngramEvent, EventOf } from '../events/engram-event.js';
import { continualMetrics, forgettingPerExperience } from './continual-metrics.js';
import type { EvaluationResultWithConfusion, ExperienceSummary, RunMeta, RunSummary } from './run-summary.js';
import { SeriesDownsampler } from './series-downsampler.js';

/**
 * Folds a run's events into a {@link RunSummary} incrementally (bounded memory: the loss curve is
 * downsampled). Fed by {@link RunRecorder} in `seq` order; also usable on a parsed metrics.jsonl.
 */
export class RunSummaryBuilder {
  private runStart: EventOf<'run-start'> | null = null;
  private runEnd: EventOf<'run-end'> | null = null;
  private readonly rows = new Map<number, Map<number, number>>();
  private readonly initial = new Map<number, number>();
  private readonly maeRows = new Map<number, Map<number, { mae: number; rmse: number }>>();
  private lastEvaluation: EventOf<'evaluation'> | null = null;
  private readonly experienceEnds: EventOf<'experience-end'>[] = [];
  private readonly epochLoss = new Map<number, number>();
  private readonly batchLoss = new Map<number, { sum: number; n: number }>();
  private readonly lossCurve = new SeriesDownsampler(500);
  private lastPrequential: EventOf<'prequential'> | null = null;
  private readonly driftPoints: { step: number; reason: string }[] = [];
  private batchSamples = 0;
  private lastStep = 0;
  private lastTime = 0;
  private warnings = 0;
  private readonly badRecords = new Map<string, number>();
  private skipped = 0;
  private dropped = 0;
  private poisoned = 0;
  private checkpoints = 0;
  private peakRss = 0;

  /** Takes one event (called for every event, in order). */
  add(event: EngramEvent): void {
    this.lastTime = Math.max(this.lastTime, event.time);
    switch (event.type) {
      case 'run-start':
        this.runStart = event;
        break;
      case 'run-end':
        this.runEnd = event;
        break;
      case 'evaluation': {
        if (event.results.some((r) => r.mae !== undefined)) {
          const row = this.maeRows.get(event.afterExperience) ?? new Map<number, { mae: number; rmse: number }>();
          for (const r of event.results) row.set(r.experience, { mae: r.mae ?? NaN, rmse: r.rmse ?? NaN });
          this.maeRows.set(event.afterExperience, row);
          this.lastEvaluation = event;
          break;
        }
        const target = event.afterExperience < 0 ? this.initial : this.row(event.afterExperience);
        for (const r of event.results) target.set(r.experience, r.accuracy);
        this.lastEvaluation = event;
        break;
      }
      case 'experience-end':
        this.experienceEnds.push(event);
        this.noteRss(event.rssBytes);
        break;
      case 'epoch-end':
        this.epochLoss.set(event.experience, event.loss);
        break;
      case 'batch-end': {
        const acc = this.batchLoss.get(event.experience) ?? { sum: 0, n: 0 };
        if (Number.isFinite(event.loss)) {
          acc.sum += event.loss;
          acc.n++;
        }
        this.batchLoss.set(event.experience, acc);
        this.lossCurve.add(event.step, event.loss);
        this.batchSamples += event.size;
        this.lastStep = Math.max(this.lastStep, event.step + 1);
        break;
      }
      case 'prequential':
        this.lastPrequential = event;
        break;
      case 'boundary':
        this.driftPoints.push({ step: event.step, reason: event.reason });
        break;
      case 'warning':
        this.warnings++;
        if (event.badRecords)
          this.badRecords.set(
            event.badRecords.source,
            Math.max(this.badRecords.get(event.badRecords.source) ?? 0, event.badRecords.total),
          );
        this.skipped += event.skippedRows ?? 0;
        break;
      case 'dropped':
        this.dropped += event.count;
        break;
      case 'poisoned-batch':
        this.poisoned++;
        break;
      case 'checkpoint':
        this.checkpoints++;
        break;
      default:
        break;
    }
  }

  /** Records a resident-set-size sample (bytes); the summary reports the maximum. */
  noteRss(bytes: number): void {
    if (Number.isFinite(bytes) && bytes > this.peakRss) this.peakRss = bytes;
  }

  private row(i: number): Map<number, number> {
    let r = this.rows.get(i);
    if (r === undefined) {
      r = new Map();
      this.rows.set(i, r);
    }
    return r;
  }

  /** The accuracy matrix so far: rows 0..max(afterExperience), columns 0..max(experience evaluated). */
  accuracyMatrix(): (number | null)[][] {
    const T = this.rows.size === 0 ? 0 : Math.max(...this.rows.keys()) + 1;
    let m = 0;
    for (const r of [...this.rows.values(), this.initial]) for (const j of r.keys()) m = Math.max(m, j + 1);
    return Array.from({ length: T }, (_, i) => Array.from({ length: m }, (_, j) => this.rows.get(i)?.get(j) ?? null));
  }

  /** The error block of a regression run, or undefined when no evaluation reported errors. */
  private errors(): RegressionErrors | undefined {
    if (this.maeRows.size === 0) return undefined;
    const T = Math.max(-1, ...this.maeRows.keys()) + 1;
    let m = 0;
    for (const r of this.maeRows.values()) for (const j of r.keys()) m = Math.max(m, j + 1);
    const matrix = (pick: 'mae' | 'rmse', i: number): (number | null)[] =>
      Array.from({ length: m }, (_, j) => this.maeRows.get(i)?.get(j)?.[pick] ?? null);
    const initial = this.maeRows.has(-1) ? matrix('mae', -1) : null;
    return regressionErrors(
      Array.from({ length: T }, (_, i) => matrix('mae', i)),
      Array.from({ length: T }, (_, i) => matrix('rmse', i)),
      initial,
    );
  }

  private perClass(): { accuracy: (number | null)[] | null; confusion: number[][] | null } {
    const results: readonly EvaluationResultWithConfusion[] = this.lastEvaluation?.results ?? [];
    const correct: number[] = [];
    const count: number[] = [];
    let confusion: number[][] | null = null;
    for (const r of results) {
      r.perClassCorrect?.forEach((v, c) => {
        correct[c] = (correct[c] ?? 0) + v;
      });
      r.perClassCount?.forEach((v, c) => {
        count[c] = (count[c] ?? 0) + v;
      });
      if (r.confusion !== undefined) {
        const cm: number[][] = confusion ?? [];
        r.confusion.forEach((row, t) =>
          row.forEach((v, p) => {
            const target = (cm[t] ??= []);
            target[p] = (target[p] ?? 0) + v;
          }),
        );
        confusion = cm;
      }
    }
    const accuracy =
      count.length === 0
        ? null
        : Array.from(count, (n, c) => (n === undefined || n === 0 ? null : (correct[c] ?? 0) / n));
    const k = confusion === null ? 0 : Math.max(confusion.length, ...confusion.map((r) => r.length));
    const dense =
      confusion === null
        ? null
        : Array.from({ length: k }, (_, t) => Array.from({ length: k }, (_, p) => confusion?.[t]?.[p] ?? 0));
    return { accuracy, confusion: dense };
  }

  /** The summary of everything added so far, with `meta` supplying names the events do not carry. */
  build(meta: RunMeta): RunSummary {
    const R = this.accuracyMatrix();
    const width = R[0]?.length ?? (this.initial.size === 0 ? 0 : Math.max(...this.initial.keys()) + 1);
    const initial =
      this.initial.size === 0 ? null : Array.from({ length: width }, (_, j) => this.initial.get(j) ?? null);
    const metrics = continualMetrics(R, initial);
    const errors = this.errors();
    const perExperience: ExperienceSummary[] = this.experienceEnds.map((e) => {
      const batches = this.batchLoss.get(e.experience);
      const loss =
        this.epochLoss.get(e.experience) ?? (batches !== undefined && batches.n > 0 ? batches.sum / batches.n : null);
      return {
        experience: e.experience,
        wallSeconds: e.wallSeconds,
        samples: e.samples,
        samplesPerSecond: e.wallSeconds > 0 ? e.samples / e.wallSeconds : 0,
        rssBytes: e.rssBytes,
        loss,
      };
    });
    const expSamples = perExperience.reduce((s, e) => s + e.samples, 0);
    const expSeconds = perExperience.reduce((s, e) => s + e.wallSeconds, 0);
    // The trainer's own count (run-end); metrics recorded before it existed fall back to the events.
    const trainSamples = this.runEnd?.samples ?? (expSamples > 0 ? expSamples : this.batchSamples);
    const lossStats = this.lossCurve.stats();
    const { accuracy: perClassAccuracy, confusion } = this.perClass();
    const strategies = meta.strategies.length > 0 ? meta.strategies : (this.runStart?.strategies ?? []);
    const p = this.lastPrequential;
    return {
      formatVersion: 1,
      name: meta.name,
      seed: meta.seed,
      strategy: strategies.length > 0 ? strategies.join('+') : 'none',
      strategies,
      scenario: meta.scenario,
      backend: this.runStart?.backend ?? meta.backend,
      mode: this.runStart?.mode ?? (p === null ? 'experiences' : 'stream'),
      experiences: Math.max(R.length, errors?.maeMatrix.length ?? 0, perExperience.length),
      numClasses: this.runStart?.numClasses ?? null,
      parameters: this.runStart?.parameters ?? null,
      ...(this.runEnd?.status === 'stopped'
        ? { averageAccuracy: null, bwt: null, fwt: null, forgetting: null, learningAccuracy: null }
        : metrics),
      accuracyMatrix: R,
      initialAccuracy: initial,
      ...(errors ? { errors } : {}),
      forgettingPerExperience: forgettingPerExperience(R),
      perClassAccuracy,
      confusionMatrix: confusion,
      trainSamples,
      replayedSamples: this.runEnd?.replayedSamples ?? 0,
      steps: this.runEnd?.steps ?? this.lastStep,
      samplesPerSecond: this.runEnd?.samplesPerSecond ?? (expSeconds > 0 ? expSamples / expSeconds : 0),
      wallSeconds: this.runEnd?.wallSeconds ?? this.lastTime / 1000,
      peakRssBytes: this.peakRss,
      perExperience,
      loss: lossStats === null ? null : { ...lossStats, curve: this.lossCurve.series() },
      prequential:
        p === null
          ? null
          : {
              samples: p.samples,
              accuracy: p.accuracy,
              windowAccuracy: p.windowAccuracy,
              fadingAccuracy: p.fadingAccuracy,
              ...(p.mae !== undefined
                ? {
                    mae: p.mae,
                    windowMae: p.windowMae ?? p.mae,
                    fadingMae: p.fadingMae ?? p.mae,
                    rmse: p.rmse ?? 0,
                    windowRmse: p.windowRmse ?? p.rmse ?? 0,
                  }
                : {}),
            },
      driftPoints: this.driftPoints.slice(),
      warnings: this.warnings,
      badRecords: Object.fromEntries(this.badRecords),
      skippedRows: this.skipped,
      droppedSamples: this.dropped,
      poisonedBatches: this.poisoned,
      checkpoints: this.checkpoints,
      status: this.runEnd ? (this.runEnd.status ?? (this.runEnd.stopped ? 'stopped' : 'completed')) : 'failed',
      stopped: this.runEnd?.stopped ?? null,
      error: this.runEnd?.error ?? null,
      outputs: {},
      pipeline: meta.pipeline,
    };
  }
}
