import { inject, injectable } from 'inversify';
import type { OperatorFunction } from 'rxjs';
import type { CheckpointStore } from '../checkpoint/checkpoint.store.js';
import type { CheckpointRegistry } from '../checkpoint/checkpoint-registry.js';
import type { CheckpointReason } from '../plugin-api/checkpointable.js';
import { captureCheckpoint, type MetricsLog } from '../checkpoint/run-snapshot.js';
import { EventBus } from '../events/event-bus.js';
import { RunControl } from '../run/run-control.js';
import { RunState } from '../run/run-state.js';
import type { PipelineDefinition } from '../pipeline/pipeline-definition.js';
import type { RunJson } from '../checkpoint/run-json.js';
import { TOKENS } from '../plugin/tokens.js';
import { eachItem } from './each-item.js';
import type { RunItem } from '../plugin-api/run-item.js';
import type { Stage } from '../plugin-api/stage.js';
import { STAGE_TOKENS } from './stage-tokens.js';

/**
 * Stage `checkpoint`: writes a checkpoint of every part in the run's {@link CheckpointRegistry} —
 * after a `batch` when `everyBatches` / `everySeconds` is due, at an `experience-end` when
 * `everyExperience` is on (reason `experience`), when a stream ends (`end`), and at a `run-end` that
 * a signal caused (`signal` — also when `checkpoint.enabled` is false: a stopped run is always
 * resumable). Each checkpoint first makes `metrics.jsonl` durable and records how
 * much of it belongs to the checkpoint; once the store's write is durable, the parts' `checkpointed`
 * hooks run (a failure becomes a `warning` event).
 */
/** The part of a checkpoint's `run.json` fixed for the whole run: the pipeline and its `--set` flags, redacted. */
export type StoredRun = Pick<RunJson, 'pipeline' | 'overrides'>;

@injectable()
export class CheckpointStage implements Stage {
  readonly name = 'checkpoint';
  private lastSave = performance.now();
  private batchesSinceSave = 0;

  constructor(
    @inject(TOKENS.Settings) private readonly pipeline: PipelineDefinition,
    @inject(TOKENS.EventBus) private readonly events: EventBus,
    @inject(STAGE_TOKENS.RunState) private readonly state: RunState,
    @inject(STAGE_TOKENS.Checkpoints) private readonly registry: CheckpointRegistry,
    @inject(STAGE_TOKENS.CheckpointStore) private readonly store: CheckpointStore,
    @inject(STAGE_TOKENS.MetricsLog) private readonly metrics: MetricsLog,
    @inject(STAGE_TOKENS.Control) private readonly control: RunControl,
    @inject(STAGE_TOKENS.StoredRun) private readonly stored: StoredRun,
  ) {}

  operator(): OperatorFunction<RunItem, RunItem> {
    const settings = this.pipeline.checkpoint;
    // With the schedule off, a stop still writes its checkpoint: a stopped run is always resumable.
    if (!settings.enabled)
      return eachItem((item) =>
        item.kind === 'run-end' && item.stopped !== undefined ? this.save('signal') : undefined,
      );
    return eachItem((item) => {
      switch (item.kind) {
        case 'batch':
          return this.afterBatch();
        case 'experience-end':
          if (item.stream) return item.boundary ? undefined : this.save('end');
          return settings.everyExperience ? this.save('experience') : undefined;
        case 'run-end':
          return item.stopped !== undefined ? this.save('signal') : undefined;
        default:
          return undefined;
      }
    });
  }

  private afterBatch(): Promise<void> | undefined {
    this.batchesSinceSave++;
    const c = this.pipeline.checkpoint;
    const byBatches = c.everyBatches !== undefined && this.batchesSinceSave >= c.everyBatches;
    const bySeconds = c.everySeconds !== undefined && (performance.now() - this.lastSave) / 1000 >= c.everySeconds;
    return byBatches || bySeconds ? this.save(byBatches ? 'batches' : 'seconds') : undefined;
  }

  /** Writes a checkpoint now and emits its `checkpoint` event. */
  async save(reason: CheckpointReason): Promise<void> {
    const t0 = performance.now();
    const state = this.state;
    const c = state.cursor;
    // The metric history stays in metrics.jsonl; the checkpoint records how much of it is on disk.
    const metrics = await this.metrics.flush();
    const states = await this.registry.capture();
    const wallSeconds = state.priorWallSeconds + (performance.now() - state.startedAt) / 1000;
    const where = `experience ${c.experience}, epoch ${c.epoch}, batch ${c.batch} (step ${c.step})`;
    // A serving run turns the event loop between the synchronous parts (nothing trains meanwhile:
    // this item holds the run, and the states are already captured).
    await this.control.turns?.breathe();
    const files = await captureCheckpoint(state.model, states, { reason, metrics, wallSeconds, ...this.stored }, where);
    await this.control.turns?.breathe();
    const { dir, bytes } = await this.store.write(c.step, files);
    for (const failure of await this.registry.checkpointed(states)) {
      this.events.emit({ type: 'warning', message: `could not acknowledge checkpoint ${dir}: ${failure}` });
    }
    this.lastSave = performance.now();
    this.batchesSinceSave = 0;
    this.events.emit({ type: 'checkpoint', path: dir, step: c.step, bytes, seconds: (this.lastSave - t0) / 1000 });
  }
}
