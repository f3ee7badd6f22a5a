import type { Experience } from '../data/experience.js';
import type { ContinuePoint } from './continue-from.js';
import { restoreContinued } from './continue-restore.js';
import { continuationOffset, shiftExperiences, type RunLineage } from './run-lineage.js';
import { FreshStart, type RunStart, type StartTarget } from './run-start.js';
import type { RunState } from '../run/run-state.js';

/**
 * `--from`: a new run that begins from an earlier run's newest valid checkpoint (see
 * engine/continue-from.ts). Its history is the earlier run's; its restore maps the earlier run's
 * states onto this pipeline's parts (what does not carry over becomes a warning) and joins the
 * earlier run's lineage; its experiences continue the earlier run's numbering. Its feed position is a
 * new run's: every experience of this run is started.
 */
export class ContinueStart extends FreshStart implements RunStart {
  override readonly continued = true;
  override readonly history: RunStart['history'];
  override readonly announced: RunStart['announced'];

  constructor(private readonly point: ContinuePoint) {
    super();
    this.history = { events: point.events, earlierRun: true };
    this.announced = { continuedFrom: { dir: point.dir, step: point.step } };
  }

  override async restore(t: StartTarget): Promise<void> {
    await restoreContinued(this.point, t.def, t.state, t.registry, t.context, t.inputShape, t.note);
    t.lineage.earlier = [...this.point.lineage];
  }

  /** Sets where this run's numbering starts, after the earlier run's last experience. */
  override number(own: readonly Experience[], lineage: RunLineage): Experience[] {
    lineage.offset = continuationOffset(own, this.point.nextExperience);
    return shiftExperiences(own, lineage.offset);
  }

  override streamed(first: Experience, _state: RunState): Experience[] {
    return [first];
  }
}
