import { checkSnapshotSlots } from '../checkpoint/snapshot-guard.js';
import { hostArray } from '../backend/host-copy.js';
import * as tf from '@tensorflow/tfjs';
import type { Checkpointable } from '../plugin-api/checkpointable.js';
import type { DataSource } from '../plugin-api/data-source.js';
import type { Rng } from '../random/rng.js';
import type { OptimizerHandle } from '../training/optimizer-handle.js';
import type { JsonValue, SerializedState, StateArray } from '../plugin-api/serialized-state.js';
import type { RunCursor, RunProgress, RunState } from '../run/run-state.js';

/**
 * Scalars some tfjs optimizers keep outside `getWeights()` (Adam/Adamax `accBeta1`, `accBeta2`: the
 * running products beta^t). `setWeights()` recomputes them with `pow()`, which differs from the
 * running product in the last bits, so checkpoints store and restore them directly.
 */
export const OPTIMIZER_EXTRA_SCALARS = ['accBeta1', 'accBeta2'] as const;

/** The optimizer's extra scalars that exist (see {@link OPTIMIZER_EXTRA_SCALARS}). */
export function optimizerExtras(optimizer: tf.Optimizer): Array<{ name: string; variable: tf.Variable }> {
  const fields = optimizer as unknown as Record<string, unknown>;
  const out: Array<{ name: string; variable: tf.Variable }> = [];
  for (const name of OPTIMIZER_EXTRA_SCALARS) {
    const v = fields[name];
    if (v instanceof tf.Variable) out.push({ name, variable: v as tf.Variable });
  }
  return out;
}

/** Maps a slot name of a stored variable order onto the current one (a head renamed when it grew). */
function renameSlot(name: string, storedOrder: readonly string[], currentOrder: readonly string[]): string {
  let best = -1;
  storedOrder.forEach((v, i) => {
    if (name.startsWith(`${v}/`) && (best < 0 || v.length > (storedOrder[best] ?? '').length)) best = i;
  });
  const target = currentOrder[best];
  const from = storedOrder[best];
  return best < 0 || target === undefined || from === undefined ? name : `${target}${name.slice(from.length)}`;
}

/**
 * `/optimizer`: every slot of the tfjs optimizer (arrays `0…n-1`, names and variable order in
 * `meta`) and its extra scalars (arrays `extra:<i>`). Restoring re-binds the optimizer to the
 * restored model's variables first. `fail` builds the error for an incompatible checkpoint.
 */
export function optimizerCheckpointable(
  optimizer: OptimizerHandle,
  state: RunState,
  fail: (message: string) => Error,
): Checkpointable {
  return {
    async state(): Promise<SerializedState> {
      const weights = await optimizer.current.getWeights();
      const slots = weights.map((w) => ({ name: w.name, array: hostArray(w.tensor) }));
      // getWeights() returns the live slot variables after a fresh `iter` scalar: dispose only that scalar.
      weights[0]?.tensor.dispose();
      checkSnapshotSlots(slots, state.cursor); // no checkpoint of non-finite optimizer state (the last good one stays newest)
      const arrays: Record<string, StateArray> = {};
      slots.forEach((s, i) => (arrays[String(i)] = s.array));
      const extras = optimizerExtras(optimizer.current);
      extras.forEach(({ variable }, i) => (arrays[`extra:${i}`] = hostArray(variable)));
      return {
        meta: {
          names: weights.map((w) => w.name),
          order: [...optimizer.variableOrder],
          extras: extras.map((e) => e.name),
        },
        arrays,
      };
    },
    async restore(s: SerializedState): Promise<void> {
      const meta = (s.meta ?? {}) as { names?: string[]; order?: string[]; extras?: string[] };
      const names = meta.names ?? [];
      const storedOrder = meta.order ?? [];
      await optimizer.track(state.model.trainableVariables());
      const currentOrder = optimizer.variableOrder;
      if (names.length <= 1 && storedOrder.length === 0) return;
      if (storedOrder.length !== currentOrder.length) {
        throw fail(
          `the optimizer has state for ${storedOrder.length} variables, the model has ${currentOrder.length} trainable ones`,
        );
      }
      const named = names.map((name, i) => {
        const a = s.arrays?.[String(i)];
        if (!a) throw fail(`optimizer slot ${name} is missing`);
        return {
          name: i === 0 ? name : renameSlot(name, storedOrder, currentOrder),
          tensor: tf.tensor(a.data, [...a.shape], a.dtype),
        };
      });
      await optimizer.current.setWeights(named);
      for (const n of named) n.tensor.dispose();
      // setWeights() recomputes Adam's accBeta with pow(); put back the exact running products.
      const extraNames = meta.extras ?? [];
      for (const { name, variable } of optimizerExtras(optimizer.current)) {
        const a = s.arrays?.[`extra:${extraNames.indexOf(name)}`];
        if (a) tf.tidy(() => variable.assign(tf.tensor(a.data, [...a.shape], a.dtype)));
      }
    },
  };
}

/** A random generator's state (`/run/rng`, `/run/dropout`). */
export function rngCheckpointable(rng: () => Rng): Checkpointable {
  return {
    state: () => ({ meta: rng().state() }),
    restore: (s) => rng().restore(s.meta as number[]),
  };
}

/** `/run/cursor`: the cursor, the running totals, the classes seen and the training time. */
export function cursorCheckpointable(state: RunState): Checkpointable {
  return {
    state: () => ({
      meta: {
        cursor: { ...state.cursor },
        progress: { ...state.progress },
        seenClasses: [...state.seenClasses],
        trainSeconds: state.trainSeconds,
      } as unknown as JsonValue,
    }),
    restore: (s) => {
      const m = s.meta as unknown as {
        cursor: RunCursor;
        progress?: RunProgress;
        seenClasses: number[];
        trainSeconds: number;
      };
      state.position.restore(m.cursor);
      if (m.progress) Object.assign(state.progress, m.progress);
      state.trainSeconds = m.trainSeconds;
      state.seenClasses.clear();
      for (const c of m.seenClasses) state.seenClasses.add(c);
    },
  };
}

/**
 * `/data`: a data source's position (`DataSource.state()` as JSON). Its `checkpointed` hook runs
 * once the checkpoint holding that position is durable (upstream acknowledgements).
 */
export function sourceCheckpointable(source: DataSource): Checkpointable {
  return {
    state: () => ({ meta: (source.state?.() ?? null) as JsonValue }),
    restore: (s) => {
      if (s.meta !== null && s.meta !== undefined) source.restore?.(s.meta);
    },
    ...(source.checkpointed ? { checkpointed: (s: SerializedState) => source.checkpointed?.(s.meta ?? null) } : {}),
  };
}
