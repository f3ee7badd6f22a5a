import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Container } from 'inversify';
import { PipelineError } from '../plugin-api/pipeline-error.js';
import { ComponentRegistry } from './component-registry.js';
import type { ComponentDescriptor } from '../plugin-api/component-descriptor.js';
import { importFailureReason } from './import-failure.js';
import { checkManifest, type PluginManifest } from '../plugin-api/plugin-manifest.js';
import { checkPluginSpecifier, type PluginOrigin } from './plugin-trust.js';
import { TOKENS } from './tokens.js';

/** A plugin to load: its specifier and where it was named (for error paths). */
export interface PluginRequest {
  /** A package name (`@engram/strategies`) or a path to a module file (relative to `baseDir`). */
  readonly specifier: string;
  /** JSON pointer of the name in the pipeline (`/plugins/1`) or `--plugin` for the CLI. */
  readonly path: string;
  /** Who named it (default `pipeline`, held to the trust rules of {@link checkPluginSpecifier}). */
  readonly origin?: PluginOrigin;
}

/**
 * Where plugins are looked up. Package names are resolved from `extraDirs` (the CLI's own install)
 * first, then the working directory, then core's own resolution — never from `baseDir`, so a
 * `node_modules` planted beside a pipeline cannot shadow an installed plugin.
 */
export interface PluginResolution {
  /** The pipeline's folder: plugin files named by the pipeline must lie under it. */
  readonly baseDir: string;
  readonly extraDirs?: readonly string[];
  /**
   * Lets the pipeline name plugin files under `baseDir` (`true`, `--allow-local-plugins`), or anywhere
   * (`'any'`, for documents the caller wrote itself); off by default.
   */
  readonly allowLocal?: boolean | 'any';
}

/** The outcome of loading: the root container and the registry of every component. */
export interface LoadedPlugins {
  readonly container: Container;
  readonly registry: ComponentRegistry;
  readonly manifests: readonly PluginManifest[];
}

/**
 * Imports the named plugins (and only those: nothing scans `node_modules`), loads each manifest's
 * ContainerModule into its own child container, and registers the descriptors it binds. `builtins`
 * are manifests core contributes itself. Throws {@link PipelineError} naming the offending entry.
 */
export async function loadPlugins(
  requests: readonly PluginRequest[],
  resolution: PluginResolution,
  builtins: readonly PluginManifest[] = [],
): Promise<LoadedPlugins> {
  const container = new Container();
  const registry = new ComponentRegistry();
  container.bind(TOKENS.Registry).toConstantValue(registry);
  const manifests: PluginManifest[] = [];
  const seen = new Set<string>();
  const add = async (manifest: PluginManifest, path: string): Promise<void> => {
    if (seen.has(manifest.name)) return;
    seen.add(manifest.name);
    const child = new Container({ parent: container });
    await child.loadAsync(manifest.module);
    const descriptors = child.isBound(TOKENS.Component) ? child.getAll<ComponentDescriptor>(TOKENS.Component) : [];
    try {
      for (const d of descriptors) registry.add(d, manifest.name, child);
    } catch (e) {
      throw PipelineError.at(path, (e as Error).message);
    }
    manifests.push(manifest);
  };
  for (const b of builtins) await add(b, '');
  for (const req of requests) {
    const exported = await importPlugin(req, resolution);
    const manifest = checkManifest(exported);
    if (typeof manifest === 'string') throw PipelineError.at(req.path, `plugin "${req.specifier}": ${manifest}`);
    await add(manifest, req.path);
  }
  return { container, registry, manifests };
}

async function importPlugin(req: PluginRequest, resolution: PluginResolution): Promise<unknown> {
  const spec = req.specifier;
  let target: ReturnType<typeof checkPluginSpecifier>;
  try {
    target = checkPluginSpecifier(spec, req.origin ?? 'pipeline', resolution.baseDir, resolution.allowLocal ?? false);
  } catch (e) {
    throw PipelineError.at(req.path, `cannot load plugin "${spec}": ${(e as Error).message}`);
  }
  let url: string | undefined;
  if (target.kind === 'file') {
    url = pathToFileURL(target.file).href;
  } else {
    for (const dir of [...(resolution.extraDirs ?? []), process.cwd()]) {
      try {
        url = pathToFileURL(createRequire(join(dir, '__engram_resolve__.js')).resolve(spec)).href;
        break;
      } catch {
        // try the next directory
      }
    }
  }
  try {
    const mod = (await import(url ?? spec)) as { default?: unknown };
    return mod.default;
  } catch (e) {
    const looked = [...(resolution.extraDirs ?? []), process.cwd()];
    const reason = importFailureReason(e, spec, target.kind === 'file' ? target : { kind: 'package' }, looked);
    throw PipelineError.at(req.path, `cannot load plugin "${spec}": ${reason}`);
  }
}
