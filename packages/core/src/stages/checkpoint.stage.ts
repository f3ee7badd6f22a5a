import { inject, injectable, optional } from 'inversify';
import { EventBus } from '../events/event-bus.js';
import type { PipelineDefinition } from '../pipeline/pipeline-definition.js';
import { TOKENS } from '../plugin/tokens.js';
import { RunState } from '../engine/run-state.js';
import type { CheckpointWriter } from './checkpoint-writer.js';
import { STAGE_TOKENS } from './stage-tokens.js';

/**
 * Stage 5: checkpointing on the pipeline's schedule — every N batches, every T seconds, at every
 * experience end, and when the run is stopped by a signal.
 */
@injectable()
export class CheckpointStage {
  private lastSave = performance.now();
  private batchesSinceSave = 0;

  constructor(
    @inject(TOKENS.Settings) private readonly pipeline: PipelineDefinition,
    @inject(TOKENS.EventBus) private readonly events: EventBus,
    @inject(STAGE_TOKENS.RunState) private readonly state: RunState,
    @inject(STAGE_TOKENS.CheckpointWriter) @optional() private readonly writer?: CheckpointWriter,
  ) {}

  private get enabled(): boolean {
    return this.writer !== undefined && this.pipeline.checkpoint.enabled;
  }

  /** After each optimizer step: saves when `everyBatches` or `everySeconds` is due. */
  async afterBatch(): Promise<void> {
    if (!this.enabled) return;
    this.batchesSinceSave++;
    const c = this.pipeline.checkpoint;
    const byBatches = c.everyBatches !== undefined && this.batchesSinceSave >= c.everyBatches;
    const bySeconds = c.everySeconds !== undefined && (performance.now() - this.lastSave) / 1000 >= c.everySeconds;
    if (byBatches || bySeconds) await this.save(byBatches ? 'batches' : 'seconds');
  }

  /** After an experience's evaluation: saves when `everyExperience` is on. */
  async afterExperience(): Promise<void> {
    if (this.enabled && this.pipeline.checkpoint.everyExperience) await this.save('experience');
  }

  /** Saves now (signal, end of run). */
  async save(reason: string): Promise<void> {
    if (!this.enabled || !this.writer) return;
    const t0 = performance.now();
    const { path, bytes } = await this.writer.save(reason);
    this.lastSave = performance.now();
    this.batchesSinceSave = 0;
    this.events.emit({ type: 'checkpoint', path, step: this.state.cursor.step, bytes, seconds: (this.lastSave - t0) / 1000 });
  }
}
