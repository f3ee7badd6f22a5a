import type { TObject } from '@sinclair/typebox';
import type { Rng } from '../random/rng.js';
import type { EventSink } from '../events/event-sink.js';
import type { PipelineProblem } from './pipeline-error.js';

/**
 * Roles a component can play, each named by a key of the pipeline document:
 * `dataset` ← `data`, `transform` ← `preprocess[]`, `adjust` ← `adjust[]`, `strategy` ← `strategy`,
 * `detector` ← `boundary` (stream-mode experience boundaries), `logger` ← `loggers[]`, `stage` ←
 * `stages[]` (extra steps of the run's stream, see `stages/stage.ts`).
 */
export type ComponentRole = 'dataset' | 'transform' | 'adjust' | 'strategy' | 'detector' | 'logger' | 'stage';

/** All roles, in the order `engram plugins` lists them. */
export const COMPONENT_ROLES: readonly ComponentRole[] = [
  'dataset',
  'transform',
  'adjust',
  'strategy',
  'detector',
  'logger',
  'stage',
];

/** What a component receives besides its options. */
export interface ComponentServices {
  /** Generator reserved for this component: a pure function of the pipeline seed and the component's path. */
  readonly rng: Rng;
  /** The pipeline's seed. */
  readonly seed: number;
  /** Directory relative paths in options are resolved against (the pipeline file's folder). */
  readonly baseDir: string;
  /** Event sink of the run. */
  readonly events: EventSink;
  /** JSON pointer of the component in the pipeline document, for error messages. */
  readonly path: string;
}

/** A class a component descriptor instantiates; constructor arguments come from the DI container. */
export type ComponentClass<T> = new (...args: never[]) => T;

/**
 * Registers one component kind for one role. Plugins bind descriptors under `TOKENS.Component`.
 *
 * `options` is a TypeBox object schema of the component's options (without `kind`); the pipeline
 * validator composes it into the document schema, so a component receives only validated options
 * with defaults applied. Either `impl` (resolved through a child container where `TOKENS.Options`
 * and `TOKENS.Services` are bound — put `@inject(TOKENS.Options)` on its constructor parameters) or
 * `create` (a plain factory) builds the instance.
 */
export interface ComponentDescriptor<T = unknown> {
  readonly role: ComponentRole;
  readonly kind: string;
  /** One sentence for `engram plugins` and the JSON Schema. */
  readonly description: string;
  readonly options: TObject;
  readonly impl?: ComponentClass<T>;
  readonly create?: (options: Record<string, unknown>, services: ComponentServices) => T;
  /**
   * Set on components that only make sense for classes (distillation of class probabilities, class
   * prototypes, class-balanced memories, heads per class): why, in a few words. A `task: "regression"`
   * pipeline that names such a component is refused at its pointer (exit 2, `validate` and `run`).
   */
  readonly classesOnly?: string;
  /**
   * Set on adjustments that wrap the model (multi-head's per-task masks): what the wrapper does, in a
   * few words. An adjustment that rebuilds the network (`grow-head`, the layer surgeries) would drop the
   * wrapper, so one listed after it in `adjust` is refused at its pointer (exit 2, `validate` and `run`).
   */
  readonly wrapsModel?: string;
  /**
   * Optional static check of the inputs the options name (files, folders, columns), run by
   * `engram validate` and before `engram run` builds anything: no training, no model, no events. May
   * read the file system (cheaply: headers, directory listings); must not write. Returns problems at
   * JSON pointers under `context.path` (e.g. `/data/path`); an empty list when all is well.
   */
  readonly check?: (options: Record<string, unknown>, context: ComponentCheckContext) => Promise<PipelineProblem[]>;
}

/** What a component's {@link ComponentDescriptor.check} receives besides its options. */
export interface ComponentCheckContext {
  /** Directory relative paths in options are resolved against (the pipeline file's folder). */
  readonly baseDir: string;
  /** JSON pointer of the component in the pipeline document (`/data`). */
  readonly path: string;
}
