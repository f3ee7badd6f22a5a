import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import type { Observable, Subscription } from 'rxjs';
import type { EngramEvent } from '../events/engram-event.js';
import { averageAccuracy, backwardTransfer, forgetting } from '../metrics/continual-metrics.js';
import type { RunLogger } from '../plugin-api/run-logger.js';
import { EventFileWriter, writtenEvents } from './tensorboard-file.js';
import type { SummaryValue } from './tensorboard-proto.js';

/** Options of the `tensorboard` logger. */
export const TensorBoardOptions = Type.Object(
  {
    dir: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Directory of the event files (relative paths: under the run output directory). Default "<out>/tensorboard".',
      }),
    ),
    flushEvery: Type.Integer({
      minimum: 1,
      default: 50,
      description:
        'Batch events buffered before they are appended to the file (evaluations and the run end flush at once).',
    }),
  },
  { additionalProperties: false },
);
export type TensorBoardOptions = Static<typeof TensorBoardOptions>;

const TEXT = { pluginData: { pluginName: 'text', content: new Uint8Array(0) } };

/**
 * Writes TensorBoard event files (role `logger`, kind `tensorboard`). Scalars: `train/loss`,
 * `train/accuracy`, `train/samples_per_second` (per logged batch, at its step); `prequential/*`;
 * a regression run writes `train/epoch_mae`, `prequential/{mae,window_mae,fading_mae,rmse,window_rmse}`
 * and `eval/{mae,rmse,loss}/experience_<j>` instead of the accuracies (and no accuracy matrix);
 * after each evaluation, at the last training step, `eval/accuracy/experience_<j>`,
 * `eval/loss/experience_<j>`, `eval/after_experience`, `metrics/ACC`, `metrics/BWT`,
 * `metrics/forgetting`, and the accuracy matrix as a Markdown table (`eval/accuracy_matrix`, text
 * plugin); `run/samples_per_second` at the end.
 *
 * Resume: each attach opens a NEW event file in `dir` (earlier files are never touched) and skips,
 * per tag, every step at or below the last step earlier files hold for that tag, so a resumed run
 * writes no step twice. The accuracy matrix is rebuilt from the earlier files' `eval/*` scalars.
 */
export class TensorBoardLogger implements RunLogger {
  private writer: EventFileWriter | undefined;
  private subscription: Subscription | undefined;
  private skipUpTo = new Map<string, number>();
  private readonly rows = new Map<number, Map<number, number>>();
  private step = 0;

  constructor(private readonly o: TensorBoardOptions) {}

  attach(events$: Observable<EngramEvent>, outputDir: string): void {
    const dir = resolve(outputDir, this.o.dir ?? 'tensorboard');
    mkdirSync(dir, { recursive: true });
    const earlier = writtenEvents(dir);
    this.skipUpTo = earlier.lastStep;
    this.restoreMatrix(earlier.scalars);
    this.writer = new EventFileWriter(dir);
    this.subscription = events$.subscribe((e) => this.onEvent(e));
  }

  /** Stops listening and appends what is buffered. */
  close(): Promise<void> {
    this.subscription?.unsubscribe();
    this.writer?.flush();
    return Promise.resolve();
  }

  private onEvent(e: EngramEvent): void {
    switch (e.type) {
      case 'batch-end':
        this.step = e.step;
        // A regression run's running training MAE of the epoch where a classification run's accuracy is.
        this.write(e.step, [
          ['train/loss', e.loss],
          e.epochMae !== undefined ? ['train/epoch_mae', e.epochMae] : ['train/accuracy', e.accuracy],
          ['train/samples_per_second', e.samplesPerSecond],
        ]);
        if ((this.writer?.queued ?? 0) >= this.o.flushEvery) this.writer?.flush();
        return;
      case 'prequential':
        this.step = e.step;
        this.write(
          e.step,
          e.mae !== undefined
            ? [
                ['prequential/mae', e.mae],
                ['prequential/window_mae', e.windowMae ?? e.mae],
                ['prequential/fading_mae', e.fadingMae ?? e.mae],
                ['prequential/rmse', e.rmse ?? 0],
                ['prequential/window_rmse', e.windowRmse ?? e.rmse ?? 0],
                ['prequential/loss', e.loss],
              ]
            : [
                ['prequential/accuracy', e.accuracy],
                ['prequential/window_accuracy', e.windowAccuracy],
                ['prequential/fading_accuracy', e.fadingAccuracy],
                ['prequential/loss', e.loss],
              ],
        );
        return;
      case 'boundary':
      case 'checkpoint':
        this.step = e.step;
        return;
      case 'evaluation':
        this.onEvaluation(e);
        this.writer?.flush();
        return;
      case 'run-end':
        this.write(e.steps, [['run/samples_per_second', e.samplesPerSecond]]);
        this.writer?.flush();
        return;
      default:
        return;
    }
  }

  private onEvaluation(e: Extract<EngramEvent, { type: 'evaluation' }>): void {
    const scalars: [string, number][] = [['eval/after_experience', e.afterExperience]];
    if (e.results.some((r) => r.mae !== undefined)) {
      // A regression run: MAE/RMSE per experience in target units (its accuracy matrix would be all zeros).
      for (const r of e.results)
        scalars.push(
          [`eval/mae/experience_${r.experience}`, r.mae ?? 0],
          [`eval/rmse/experience_${r.experience}`, r.rmse ?? 0],
          [`eval/loss/experience_${r.experience}`, r.loss],
        );
      this.write(this.step, scalars);
      return;
    }
    for (const r of e.results)
      scalars.push(
        [`eval/accuracy/experience_${r.experience}`, r.accuracy],
        [`eval/loss/experience_${r.experience}`, r.loss],
      );
    if (e.afterExperience >= 0) {
      const row = this.rows.get(e.afterExperience) ?? new Map<number, number>();
      for (const r of e.results) row.set(r.experience, r.accuracy);
      this.rows.set(e.afterExperience, row);
      const R = this.matrix();
      const metrics: [string, number | null][] = [
        ['metrics/ACC', averageAccuracy(R)],
        ['metrics/BWT', backwardTransfer(R)],
        ['metrics/forgetting', forgetting(R)],
      ];
      for (const [tag, v] of metrics) if (v !== null) scalars.push([tag, v]);
      this.write(this.step, scalars, [{ tag: 'eval/accuracy_matrix', text: markdownMatrix(R) }]);
    } else this.write(this.step, scalars);
  }

  /** The accuracy matrix from the rows seen so far (missing cells null). */
  private matrix(): (number | null)[][] {
    const T = Math.max(-1, ...this.rows.keys()) + 1;
    const m = Math.max(0, ...[...this.rows.values()].map((r) => Math.max(-1, ...r.keys()) + 1));
    return Array.from({ length: T }, (_, i) => Array.from({ length: m }, (_, j) => this.rows.get(i)?.get(j) ?? null));
  }

  private restoreMatrix(scalars: { step: number; tag: string; value: number }[]): void {
    const after = new Map<number, number>();
    for (const s of scalars) if (s.tag === 'eval/after_experience') after.set(s.step, s.value);
    for (const s of scalars) {
      const m = /^eval\/accuracy\/experience_(\d+)$/.exec(s.tag);
      const i = after.get(s.step);
      if (m === null || i === undefined || i < 0) continue;
      const row = this.rows.get(i) ?? new Map<number, number>();
      row.set(Number(m[1]), s.value);
      this.rows.set(i, row);
    }
  }

  /** Queues one Event with the scalars (and texts) whose tag has not reached `step` in earlier files. */
  private write(step: number, scalars: [string, number][], texts: { tag: string; text: string }[] = []): void {
    const fresh = (tag: string): boolean => step > (this.skipUpTo.get(tag) ?? -Infinity);
    const value: SummaryValue[] = scalars
      .filter(([tag, v]) => fresh(tag) && Number.isFinite(v))
      .map(([tag, simpleValue]) => ({ tag, simpleValue }));
    for (const t of texts)
      if (fresh(t.tag))
        value.push({
          tag: t.tag,
          metadata: TEXT,
          tensor: { dtype: 7, tensorShape: { dim: [] }, stringVal: [Buffer.from(t.text, 'utf8')] },
        });
    if (value.length > 0) this.writer?.add({ wallTime: Date.now() / 1000, step, summary: { value } });
  }
}

/** The accuracy matrix as a Markdown table (TensorBoard's text plugin renders it), accuracies in %. */
export function markdownMatrix(R: readonly (readonly (number | null)[])[]): string {
  const m = R[0]?.length ?? 0;
  const head = `| after \\ on | ${Array.from({ length: m }, (_, j) => `exp ${j}`).join(' | ')} |`;
  const rule = `|---|${'---|'.repeat(m)}`;
  const rows = R.map(
    (row, i) => `| exp ${i} | ${row.map((v) => (v === null ? '' : `${(v * 100).toFixed(1)} %`)).join(' | ')} |`,
  );
  return [head, rule, ...rows].join('\n');
}
