import type { JsonValue, Rng, SerializedState } from '@engram/core';
import { metaObject } from '../common/tensor-state.js';
import type { ReplayBuffer } from './replay-buffer.js';

/**
 * Checkpoint state of a strategy built on a memory (replay, A-GEM): the buffer with its contents, the
 * generator that draws from it, and how many experiences have ended.
 */
export function memoryState(buffer: ReplayBuffer, draw: Rng, experiences: number): SerializedState {
  const b = buffer.state();
  return { meta: { buffer: b.meta ?? null, draw: draw.state(), experiences }, arrays: b.arrays ?? {} };
}

/** Restores {@link memoryState} into `buffer` and `draw`; returns the experience count. */
export function restoreMemory(state: SerializedState, owner: string, buffer: ReplayBuffer, draw: Rng): number {
  const meta = metaObject(state.meta, owner);
  buffer.restore({ meta: (meta['buffer'] ?? null) as JsonValue, arrays: state.arrays ?? {} });
  draw.restore(meta['draw'] as number[]);
  return (meta['experiences'] as number | undefined) ?? 0;
}
