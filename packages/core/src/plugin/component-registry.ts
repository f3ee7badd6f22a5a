import type { Container } from 'inversify';
import type { ComponentDescriptor, ComponentRole } from '../plugin-api/component-descriptor.js';
import { COMPONENT_ROLES } from '../plugin-api/component-descriptor.js';

/** Error raised when two plugins register the same role and kind. */
export class DuplicateComponentError extends Error {}

/** The registered components, by role and kind. Built once after all plugins are loaded. */
export class ComponentRegistry {
  private readonly byRole = new Map<ComponentRole, Map<string, RegisteredComponent>>();

  /**
   * Adds a descriptor contributed by `plugin`, whose classes resolve in `container`; a second
   * `role + kind` is an error naming both plugins.
   */
  add(descriptor: ComponentDescriptor, plugin: string, container?: Container): void {
    let kinds = this.byRole.get(descriptor.role);
    if (!kinds) {
      kinds = new Map();
      this.byRole.set(descriptor.role, kinds);
    }
    const existing = kinds.get(descriptor.kind);
    if (existing) {
      throw new DuplicateComponentError(
        `${descriptor.role} "${descriptor.kind}" is registered twice (by ${existing.plugin} and by ${plugin})`,
      );
    }
    kinds.set(descriptor.kind, { descriptor, plugin, ...(container ? { container } : {}) });
  }

  /** The descriptor of `role`/`kind`, if registered. */
  get(role: ComponentRole, kind: string): ComponentDescriptor | undefined {
    return this.byRole.get(role)?.get(kind)?.descriptor;
  }

  /** The full registration of `role`/`kind` (descriptor, plugin name, container). */
  entry(role: ComponentRole, kind: string): RegisteredComponent | undefined {
    return this.byRole.get(role)?.get(kind);
  }

  /** Registered kinds of a role, sorted. */
  kinds(role: ComponentRole): string[] {
    return [...(this.byRole.get(role)?.keys() ?? [])].sort();
  }

  /** Every registered component with the plugin that contributed it, by role order then kind. */
  list(): RegisteredComponent[] {
    const out: RegisteredComponent[] = [];
    for (const role of COMPONENT_ROLES) {
      for (const kind of this.kinds(role)) {
        const entry = this.byRole.get(role)?.get(kind);
        if (entry) out.push(entry);
      }
    }
    return out;
  }
}

/** A descriptor with where it came from. */
export interface RegisteredComponent {
  readonly descriptor: ComponentDescriptor;
  /** Name of the contributing plugin's manifest. */
  readonly plugin: string;
  /** The plugin's container, parent of each instance's child container. */
  readonly container?: Container;
}
