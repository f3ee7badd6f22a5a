import {
  Type,
  type AdjustContext,
  type Adjustment,
  type ComponentDescriptor,
  type EngramModel,
  type SerializedState,
  type Static,
  type StreamInfo,
} from '@engram/core';
import { metaObject } from '../common/tensor-state.js';
import { MultiHeadModel } from './multi-head.model.js';

/** Options of the `multi-head` adjustment. */
export const MultiHeadOptions = Type.Object(
  {
    classesPerTask: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          'Tasks own contiguous blocks of this many classes (default: numClasses / tasks for tasks not seen in training yet).',
      }),
    ),
  },
  { additionalProperties: false },
);

/**
 * The `multi-head` adjustment for task-incremental scenarios (van de Ven et al. 2019's "Task-IL"):
 * wraps the model in a {@link MultiHeadModel} at the first experience and, at every experience start,
 * records the experience's classes for its task. Tasks not seen yet (e.g. at test time) fall back to
 * contiguous equal splits of `StreamInfo.numClasses` over `StreamInfo.tasks` (or `classesPerTask`).
 */
export class MultiHeadAdjustment implements Adjustment {
  constructor(private readonly options: Static<typeof MultiHeadOptions>) {}

  apply(model: EngramModel, ctx: AdjustContext): EngramModel | void {
    const wrapper = this.masks(model, ctx.info);
    const task = ctx.experience.task;
    if (task !== undefined) {
      const seen = this.seenClasses.get(task) ?? new Set<number>();
      for (const c of ctx.experience.classes) seen.add(c);
      this.seenClasses.set(task, seen);
    }
    // Every task trained so far (also after a resume, where the wrapper is new).
    for (const [t, classes] of this.seenClasses) wrapper.setTaskClasses(t, [...classes]);
    return wrapper === model ? undefined : wrapper;
  }

  /** `engram eval`: the checkpoint's network with every task's classes, as the run evaluated it. */
  forEvaluation(model: EngramModel, info: StreamInfo): EngramModel {
    const wrapper = this.masks(model, info);
    for (const [t, classes] of this.seenClasses) wrapper.setTaskClasses(t, [...classes]);
    return wrapper;
  }

  /** `model` wrapped (once), with the default classes of every task not trained yet. */
  private masks(model: EngramModel, info: StreamInfo): MultiHeadModel {
    const wrapper = model instanceof MultiHeadModel ? model : new MultiHeadModel(model.network);
    const { numClasses, tasks } = info;
    const per = this.options.classesPerTask ?? (tasks && tasks > 0 ? Math.floor(numClasses / tasks) : undefined);
    if (per !== undefined) {
      const count = Math.ceil(numClasses / per);
      for (let t = 0; t < count; t++) {
        if (!wrapper.taskClasses(t)) wrapper.setTaskClasses(t, range(t * per, Math.min(numClasses, (t + 1) * per)));
      }
    }
    return wrapper;
  }

  /** The classes each task was trained on, for checkpoints. */
  state(): SerializedState {
    return { meta: { tasks: [...this.seenClasses].map(([t, classes]) => [t, [...classes].sort((a, b) => a - b)]) } };
  }

  restore(state: SerializedState): void {
    const tasks = (metaObject(state.meta, 'multi-head')['tasks'] ?? []) as Array<[number, number[]]>;
    this.seenClasses.clear();
    for (const [t, classes] of tasks) this.seenClasses.set(t, new Set(classes));
  }

  private readonly seenClasses = new Map<number, Set<number>>();
}

function range(a: number, b: number): number[] {
  return Array.from({ length: Math.max(0, b - a) }, (_, i) => a + i);
}

/** Registration of `multi-head`. */
export const multiHeadDescriptors: ComponentDescriptor[] = [
  {
    role: 'adjust',
    kind: 'multi-head',
    classesOnly: 'it gives each task its own class head',
    wrapsModel: "it masks the logits outside each sample's task",
    description: 'Task-incremental multi-head: each sample is scored only over the classes of its task.',
    options: MultiHeadOptions,
    create: (o) => new MultiHeadAdjustment(o),
  },
];
