import type { ContainerModule } from 'inversify';

/** The plugin API version this core implements. */
export const PLUGIN_API_VERSION = 1;

/**
 * The default export of a plugin module. `module` is loaded into the run's container; it binds
 * {@link ComponentDescriptor}s under `TOKENS.Component` and any classes they need.
 */
export interface PluginManifest {
  readonly name: string;
  readonly apiVersion: number;
  readonly module: ContainerModule;
}

/** Narrows an unknown module export to a manifest, or says what is wrong with it. */
export function checkManifest(value: unknown): PluginManifest | string {
  if (typeof value !== 'object' || value === null) return 'the default export is not a plugin manifest object';
  const m = value as Record<string, unknown>;
  if (typeof m['name'] !== 'string') return 'the manifest has no string "name"';
  if (m['apiVersion'] !== PLUGIN_API_VERSION) {
    return `the manifest has apiVersion ${JSON.stringify(m['apiVersion'])}, this core supports ${PLUGIN_API_VERSION}`;
  }
  const mod = m['module'];
  if (typeof mod !== 'object' || mod === null || typeof (mod as { load?: unknown }).load !== 'function') {
    return 'the manifest\'s "module" is not an inversify ContainerModule';
  }
  return value as PluginManifest;
}
