import { Container } from 'inversify';
import { PipelineError } from '../plugin-api/pipeline-error.js';
import type { ComponentRole, ComponentServices } from '../plugin-api/component-descriptor.js';
import type { ComponentRegistry } from './component-registry.js';
import { TOKENS } from './tokens.js';

/** A component reference as written in a pipeline: `{ "kind": "...", ...options }`. */
export interface ComponentRef {
  readonly kind: string;
  readonly [option: string]: unknown;
}

/**
 * Builds the component `ref` of `role` in a child container of its plugin's container, where its
 * validated options (`ref` without `kind`) and services are bound.
 */
export function createComponent<T>(
  registry: ComponentRegistry,
  role: ComponentRole,
  ref: ComponentRef,
  services: ComponentServices,
): T {
  const entry = registry.entry(role, ref.kind);
  if (!entry) {
    throw PipelineError.at(
      `${services.path}/kind`,
      `unknown ${role} "${ref.kind}"; known: ${registry.kinds(role).join(', ') || '(none)'}`,
    );
  }
  const { kind: _kind, ...options } = ref;
  const d = entry.descriptor;
  if (d.create) return d.create(options, services) as T;
  if (!d.impl) throw new Error(`${role} "${ref.kind}" has neither impl nor create`);
  const child = new Container(entry.container ? { parent: entry.container } : {});
  child.bind(TOKENS.Options).toConstantValue(options);
  child.bind(TOKENS.Services).toConstantValue(services);
  child.bind(d.impl).toSelf();
  return child.get(d.impl) as T;
}
