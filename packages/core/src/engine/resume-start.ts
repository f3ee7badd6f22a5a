import type { Experience } from '../data/experience.js';
import { restoreAfterExperienceStart, restoreRun, type ResumePoint } from './resume.js';
import { shiftExperiences, type RunLineage } from './run-lineage.js';
import type { RunStart, StartTarget } from './run-start.js';
import type { RunPosition, RunState } from '../run/run-state.js';

/**
 * `--resume`: the run continues its own newest valid checkpoint (see engine/resume.ts). Its history is
 * this run's past events; its restore puts back the model, every registered part (lineage included)
 * and the cursor; the feed skips the experiences finished before the checkpoint and re-enters the one
 * it was written inside, whose start hooks' changes are then restored a second time.
 */
export class ResumeStart implements RunStart {
  readonly resumed = true;
  readonly continued = false;
  readonly announced = {};
  readonly history: RunStart['history'];
  private target: StartTarget | undefined;

  constructor(private readonly point: ResumePoint) {
    this.history = { events: point.events, earlierRun: false };
  }

  /** Experience `Infinity`: the checkpoint was the run's last. */
  get ended(): boolean {
    return this.point.experience === Infinity;
  }

  async restore(target: StartTarget): Promise<void> {
    this.target = target;
    await restoreRun(this.point, target.state, target.registry, target.context);
  }

  number(own: readonly Experience[], lineage: RunLineage): Experience[] {
    return shiftExperiences(own, lineage.offset);
  }

  /**
   * The experiences a stream run had started before its checkpoint: the source's endless experience
   * 0, then one per boundary crossed (as the feed creates them).
   */
  streamed(first: Experience, state: RunState): Experience[] {
    const current = state.cursor.experience;
    return Array.from({ length: Math.max(1, current - first.index + 1) }, (_, i) =>
      i === 0 ? first : { ...first, index: first.index + i, classes: [...state.seenClasses] },
    );
  }

  /** The restored cursor stays. */
  begin(_position: RunPosition): void {}

  finished(index: number): boolean {
    return index < this.point.experience;
  }

  reenters(index: number, stream: boolean): boolean {
    return stream || (this.point.midExperience && index === this.point.experience);
  }

  async afterReentry(): Promise<void> {
    const t = this.target;
    if (t) await restoreAfterExperienceStart(this.point, t.state, t.registry);
  }
}
