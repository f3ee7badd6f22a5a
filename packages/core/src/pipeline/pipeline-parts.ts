import type { ComponentRole } from '../plugin-api/component-descriptor.js';
import type { ComponentRef } from '../plugin/component-factory.js';
import type { PipelineDefinition } from './pipeline-definition.js';

/**
 * One component a pipeline names: its role, its JSON pointer in the pipeline document (which is also
 * the key of its state in a checkpoint), its kind and its options as written (`ref` without `kind`).
 */
export interface PipelinePart {
  readonly role: ComponentRole;
  /** The role's word in messages (`the earlier run's strategy ewc (/strategy/1) …`). */
  readonly noun: string;
  /** JSON pointer of the part in the pipeline, and of its state in a checkpoint (`/strategy/1`). */
  readonly pointer: string;
  /** Position among the parts of its role (0 for a single strategy or the data source). */
  readonly index: number;
  readonly kind: string;
  /** The reference as written: `{ kind, ...options }`. */
  readonly ref: ComponentRef;
}

/** The sections of a pipeline that name components, in the order the run builds them. */
const SECTIONS: ReadonlyArray<{
  readonly role: ComponentRole;
  readonly noun: string;
  readonly key: 'data' | 'preprocess' | 'adjust' | 'strategy' | 'boundary' | 'loggers' | 'stages';
}> = [
  { role: 'dataset', noun: 'data source', key: 'data' },
  { role: 'transform', noun: 'transform', key: 'preprocess' },
  { role: 'adjust', noun: 'adjustment', key: 'adjust' },
  { role: 'strategy', noun: 'strategy', key: 'strategy' },
  { role: 'detector', noun: 'detector', key: 'boundary' },
  { role: 'logger', noun: 'logger', key: 'loggers' },
  { role: 'stage', noun: 'stage', key: 'stages' },
];

/**
 * Every component of `def` with its pointer: the one table the run (building and checkpointing its
 * parts), serving (prediction views), `--from` (matching an earlier run's states), `engram export`
 * and `engram eval` read, so they agree on pointers by construction. A section holding one object
 * (`data`, `boundary`, a single `strategy`) has the section's pointer (`/strategy`); a list has one
 * per element (`/strategy/0`, `/preprocess/2`). Pure: call it whenever a pipeline's parts are needed.
 */
export function pipelineParts(def: PipelineDefinition): PipelinePart[] {
  const out: PipelinePart[] = [];
  for (const { role, noun, key } of SECTIONS) {
    const section = (def as unknown as Record<string, ComponentRef | readonly ComponentRef[] | undefined>)[key];
    if (section === undefined) continue;
    const refs: readonly ComponentRef[] = Array.isArray(section) ? section : [section as ComponentRef];
    const single = !Array.isArray(section);
    refs.forEach((ref, index) =>
      out.push({ role, noun, pointer: single ? `/${key}` : `/${key}/${index}`, index, kind: ref.kind, ref }),
    );
  }
  return out;
}

/** The parts of `def` that play `role`, in their order (see {@link pipelineParts}). */
export function partsOf(def: PipelineDefinition, role: ComponentRole): PipelinePart[] {
  return pipelineParts(def).filter((p) => p.role === role);
}

/** A part's options: its reference without `kind`. */
export function partOptions(part: PipelinePart): Record<string, unknown> {
  const { kind: _kind, ...options } = part.ref;
  return options;
}
