import type { CheckpointRegistry } from '../checkpoint/checkpoint-registry.js';
import type { Experience } from '../data/experience.js';
import type { EngramEvent } from '../events/engram-event.js';
import type { PipelineDefinition } from '../pipeline/pipeline-definition.js';
import type { RunContext } from './run-context.js';
import { shiftExperiences, type RunLineage } from './run-lineage.js';
import type { RunPosition, RunState } from '../run/run-state.js';

/**
 * Where the feed's items begin, as the start decided it: the feed asks these questions about
 * positions, never which start it is.
 */
export interface FeedPosition {
  /** Carried by the `run-start` item: the run continues one of its own checkpoints. */
  readonly resumed: boolean;
  /** Carried by the `run-start` item: the run began from an earlier run's checkpoint (`--from`). */
  readonly continued: boolean;
  /** A finite run's position before its first experience: "nothing started yet", or the restored one. */
  begin(position: RunPosition): void;
  /** Whether experience `index` was finished before the checkpoint (it is not trained again). */
  finished(index: number): boolean;
  /**
   * Whether experience `index` is the one the checkpoint was written inside: its start is not
   * announced again and its pass continues at the cursor (a stream's current experience: `stream`).
   */
  reenters(index: number, stream: boolean): boolean;
  /** The run had ended before the checkpoint: a stream pulls nothing more. */
  readonly ended: boolean;
  /** Puts back what a re-entered experience's start hooks changed; called once its start item is through. */
  afterReentry(): Promise<void>;
}

/** What a start restores into, once the model is built and every checkpointable part registered. */
export interface StartTarget {
  readonly def: PipelineDefinition;
  readonly state: RunState;
  readonly registry: CheckpointRegistry;
  readonly context: RunContext;
  readonly lineage: RunLineage;
  /** The model's input shape (after preprocess), without the batch axis. */
  readonly inputShape: readonly number[];
  /** Says something that did not carry over in the run's history (a `warning` after `run-start`). */
  readonly note: (message: string) => void;
}

/**
 * How a run begins, chosen once by `chooseStart`: a new run ({@link FreshStart}), the
 * continuation of this run's own newest checkpoint (`ResumeStart`, `--resume`) or a new run from an
 * earlier run's checkpoint (`ContinueStart`, `--from`). It owns everything that differs between them:
 * the history the run's events continue, the restore, the numbering and list of its experiences, its
 * lineage, its warnings and the position its feed begins at.
 */
export interface RunStart extends FeedPosition {
  /** The events the run's history begins with, and whether they belong to an earlier run. */
  readonly history: { readonly events: EngramEvent[]; readonly earlierRun: boolean };
  /** Fields the `run-start` event carries for this start. */
  readonly announced: Readonly<Partial<Pick<Extract<EngramEvent, { type: 'run-start' }>, 'continuedFrom'>>>;
  /** Puts the checkpoint's state in place (model, registry, lineage); called once, before any item. */
  restore(target: StartTarget): Promise<void>;
  /** This run's own experiences in the chain's numbering (sets `lineage.offset` where it begins one). */
  number(own: readonly Experience[], lineage: RunLineage): Experience[];
  /** The experiences a stream run has started by now (its first, or all up to the restored cursor). */
  streamed(first: Experience, state: RunState): Experience[];
}

/** A new run: nothing to restore, no history, experiences numbered from their source. */
export class FreshStart implements RunStart {
  readonly resumed: boolean = false;
  readonly continued: boolean = false;
  readonly ended: boolean = false;
  readonly history: RunStart['history'] = { events: [], earlierRun: false };
  readonly announced: RunStart['announced'] = {};

  async restore(_target: StartTarget): Promise<void> {}

  number(own: readonly Experience[], lineage: RunLineage): Experience[] {
    return shiftExperiences(own, lineage.offset);
  }

  streamed(first: Experience, _state: RunState): Experience[] {
    return [first];
  }

  begin(position: RunPosition): void {
    position.notStarted();
  }

  finished(): boolean {
    return false;
  }

  reenters(): boolean {
    return false;
  }

  async afterReentry(): Promise<void> {}
}
