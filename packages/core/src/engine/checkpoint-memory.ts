import type { Batch } from '../data/batch.js';
import { EventBus } from '../events/event-bus.js';
import type { LoadedPipeline } from '../loading/pipeline.loader.js';
import { partsOf } from '../pipeline/pipeline-parts.js';
import type { SerializedState } from '../plugin-api/serialized-state.js';
import type { Strategy } from '../plugin-api/strategy.js';
import { Rng } from '../random/rng.js';
import { StrategyChain } from '../training/strategy-chain.js';
import { componentMaker } from './component-maker.js';

/**
 * The replay memory a checkpoint holds (`Strategy.memory` of the first strategy that keeps one), read
 * by `engram serve --follow` for its promotion gates: fresh strategies of `loaded`'s pipeline are
 * restored from the checkpoint's `states` (only those with a `memory`), asked for their memory, and
 * disposed. Undefined when no strategy keeps a memory or it is empty. Draws no random numbers from
 * anything but the components' own generators (the pipeline's seed); nothing trains.
 */
export async function checkpointMemory(
  loaded: LoadedPipeline,
  states: ReadonlyMap<string, SerializedState>,
): Promise<Batch | undefined> {
  const def = loaded.definition;
  const bus = new EventBus();
  const make = componentMaker(loaded, new Rng(def.seed), bus);
  const parts = partsOf(def, 'strategy');
  const strategies = parts.map((p) => make<Strategy>('strategy', p.ref, p.pointer));
  const chain = new StrategyChain(strategies);
  try {
    for (let i = 0; i < strategies.length; i++) {
      const s = strategies[i] as Strategy;
      const state = states.get(parts[i]?.pointer ?? `/strategy/${i}`);
      if (s.memory && s.restore && state) await s.restore(state);
    }
    return chain.memory();
  } finally {
    chain.dispose();
    bus.complete();
  }
}
