import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Who named a plugin. A pipeline file may come from anyone (a shared repository, a download), so what
 * it names is held to the trust rules below; `--plugin` on the command line is the user's own choice.
 */
export type PluginOrigin = 'pipeline' | 'cli';

/** How a plugin specifier is to be loaded, once the trust rules allowed it. */
export type PluginTarget =
  { readonly kind: 'package'; readonly name: string } | { readonly kind: 'file'; readonly file: string };

/** npm package names (optionally scoped) with an optional sub-path: `@engram/strategies`, `my-plugin/extra`. */
const PACKAGE_NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*(?:\/[A-Za-z0-9._~-]+)*$/;
/** A URL scheme (`data:`, `http:`, `file:`, `node:` …); two letters at least, so no drive letter matches. */
const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]+):/;

const inside = (root: string, path: string): boolean => {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
};

/**
 * Applies the plugin trust model (README "Plugins and trust") to one specifier and says what to load,
 * or throws an `Error` with the reason. Called by the plugin loader before anything is imported:
 * - npm package names are allowed; they are resolved from the CLI's own install and the working
 *   directory's project, never from a `node_modules` beside the pipeline file;
 * - a file path (`./x.js`, `/abs/x.js`, `file:` URL) named by a pipeline needs `allowLocal`
 *   (`--allow-local-plugins`) and must resolve, symlinks followed, inside the pipeline's folder;
 *   named on the command line it is resolved from the working directory; `allowLocal: 'any'` (a
 *   document the caller wrote itself: tests, embedding code) lifts the folder restriction;
 * - any other URL scheme (`data:`, `http:`, `https:`, `node:` …) is refused.
 */
export function checkPluginSpecifier(
  spec: string,
  origin: PluginOrigin,
  baseDir: string,
  allowLocal: boolean | 'any',
): PluginTarget {
  const scheme = SCHEME.exec(spec)?.[1]?.toLowerCase();
  if (scheme !== undefined && scheme !== 'file') {
    throw new Error(
      `"${scheme}:" plugins are not allowed: name an installed npm ` +
        `package${origin === 'pipeline' ? ", or a file under the pipeline's folder with --allow-local-plugins" : ' or a file path'}`,
    );
  }
  const isPath = scheme === 'file' || spec.startsWith('.') || isAbsolute(spec);
  if (!isPath) {
    if (!PACKAGE_NAME.test(spec)) throw new Error('is neither an npm package name nor a file path');
    return { kind: 'package', name: spec };
  }
  let file: string;
  try {
    file = scheme === 'file' ? fileURLToPath(spec) : resolve(origin === 'cli' ? process.cwd() : baseDir, spec);
  } catch (e) {
    throw new Error(`is not a valid file URL (${(e as Error).message})`, { cause: e });
  }
  if (origin === 'cli' || allowLocal === 'any') return { kind: 'file', file };
  if (!allowLocal) {
    throw new Error(
      'is a file path: a pipeline may load plugin files only when you pass --allow-local-plugins (see README, "Plugins and trust")',
    );
  }
  const root = realOrSelf(baseDir);
  const real = realOrSelf(file);
  if (!inside(root, real))
    throw new Error(`is outside the pipeline's folder ${root}: only plugin files under it may be loaded`);
  return { kind: 'file', file: real };
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}
