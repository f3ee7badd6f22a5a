import type { EventSink } from '../events/event-sink.js';
import type { LoadedPipeline } from '../loading/pipeline.loader.js';
import type { ComponentRole, ComponentServices } from '../plugin-api/component-descriptor.js';
import { createComponent, type ComponentRef } from '../plugin/component-factory.js';
import type { Rng } from '../random/rng.js';

/** Builds one component of a run from its pipeline reference and its JSON pointer. */
export type ComponentMaker = <T>(role: ComponentRole, ref: ComponentRef, path: string) => T;

/**
 * The component factory of a run: every component gets a generator derived from the run's root
 * generator and its JSON path (so adding a component never shifts another's random numbers), the
 * seed, the pipeline folder and the event sink.
 */
export function componentMaker(loaded: LoadedPipeline, rootRng: Rng, events: EventSink): ComponentMaker {
  const seed = loaded.definition.seed;
  return <T>(role: ComponentRole, ref: ComponentRef, path: string): T => {
    const services: ComponentServices = { rng: rootRng.derive(path), seed, baseDir: loaded.baseDir, events, path };
    return createComponent<T>(loaded.registry, role, ref, services);
  };
}
