/** What the plugin loader tried to import: a module file, or a package by name. */
export type ImportTarget = { readonly kind: 'file'; readonly file: string } | { readonly kind: 'package' };

/** The module Node could not find while importing a plugin, and the file whose import named it. */
export interface UnresolvedImport {
  /** The specifier as Node reports it: a package name (`@tensorflow/tfjs`) or an absolute file path. */
  readonly specifier: string;
  /** The file that imported it (absolute path), when Node says so. */
  readonly importer?: string;
}

/**
 * Reads the unresolved specifier and its importer out of Node's resolution errors: ESM
 * (`ERR_MODULE_NOT_FOUND`, "Cannot find package 'x' imported from /a/b.js") and CommonJS
 * (`MODULE_NOT_FOUND`, "Cannot find module 'x'" then a require stack). `undefined` for any other error.
 */
export function unresolvedImport(error: unknown): UnresolvedImport | undefined {
  const err = error as NodeJS.ErrnoException | undefined;
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' && err?.code !== 'MODULE_NOT_FOUND') return undefined;
  const message = String(err.message);
  const esm = /^Cannot find (?:package|module) '([^']+)' imported from (.+)$/m.exec(message);
  if (esm?.[1] !== undefined && esm[2] !== undefined) return { specifier: esm[1], importer: esm[2].trim() };
  const cjs = /^Cannot find module '([^']+)'/m.exec(message);
  if (cjs?.[1] === undefined) return undefined;
  const stack = /^Require stack:\n- (.+)$/m.exec(message)?.[1];
  return stack === undefined ? { specifier: cjs[1] } : { specifier: cjs[1], importer: stack.trim() };
}

/**
 * The reason, after `cannot load plugin "<spec>": `, that the plugin loader gives when importing a plugin
 * failed. Called once per failed import; touches nothing. A plugin that is not there at all is "no module
 * at <file>" (or "package not found", with the folders `looked` in); a plugin that is there but imports
 * something Node cannot resolve names that module and the file that imports it, so a missing peer
 * dependency (`@tensorflow/tfjs` not installed beside the plugin) is not mistaken for a missing plugin.
 */
export function importFailureReason(
  error: unknown,
  spec: string,
  target: ImportTarget,
  looked: readonly string[],
): string {
  const missing = unresolvedImport(error);
  if (missing === undefined) {
    const message = error instanceof Error ? error.message : String(error);
    return `failed to load: ${message.split('\n')[0] ?? ''}`;
  }
  if (target.kind === 'file' && (missing.specifier === target.file || missing.importer === undefined)) {
    return `no module at ${target.file}`;
  }
  if (target.kind === 'package' && (missing.specifier === spec || missing.specifier.startsWith(`${spec}/`))) {
    return `package not found (looked from ${looked.join(', ')}); is it installed?`;
  }
  const from = missing.importer === undefined ? '' : ` imported from ${missing.importer}`;
  return `cannot resolve "${missing.specifier}"${from}`;
}
