import { redactSecrets, REDACTED } from '../pipeline/secret-redaction.js';

/**
 * One `--set path=value` override the embedder (the CLI) applied to the pipeline document before it was
 * loaded: where (`pointer`, a JSON pointer), what (`value`, parsed) and the flag as typed (`text`).
 * Given as {@link RunOptions.overrides}; a run records them, secrets redacted, in every checkpoint's
 * `run.json`, so a `--resume` whose pipeline differs can name the flag that makes the difference.
 */
export interface CommandOverride {
  readonly pointer: string;
  readonly value: unknown;
  readonly text: string;
}

/** JSON text of `value` with object keys sorted and undefined members left out: equal values, equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const tokensOf = (pointer: string): string[] =>
  pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));

/** The override with its value redacted as {@link redactSecrets} redacts the same field of a pipeline. */
function redacted(o: CommandOverride): CommandOverride {
  const tokens = tokensOf(o.pointer);
  const doc: Record<string, unknown> = {};
  let node = doc;
  tokens.forEach((t, i) => {
    const next: Record<string, unknown> = {};
    Object.defineProperty(node, t, { value: i === tokens.length - 1 ? o.value : next, enumerable: true });
    node = next;
  });
  let value: unknown = redactSecrets(doc);
  for (const t of tokens) value = (value as Record<string, unknown>)[t];
  if (canonicalJson(value) === canonicalJson(o.value)) return o;
  const path = o.text.slice(0, Math.max(0, o.text.indexOf('=')));
  return { pointer: o.pointer, value, text: `${path}=${typeof value === 'string' ? value : REDACTED}` };
}

/**
 * The overrides as a checkpoint's `run.json` records them: in order, each value redacted where the
 * stored pipeline redacts it (`serve.token`, a URL's password). Called once per run when it is assembled.
 */
export function recordOverrides(overrides: readonly CommandOverride[]): CommandOverride[] {
  return overrides.map((o) => {
    const r = redacted(o);
    return { pointer: r.pointer, value: r.value, text: r.text };
  });
}

/**
 * Why a resumed pipeline differs from its checkpoint's in terms of `--set` flags: for the top-level
 * sections in `changed` (see `pipelineDifferences`), each flag of the run's start (`recorded`) that
 * the resuming command (`current`) lacks or gives another value, and each flag it adds. The last flag
 * for a pointer counts, as when they are applied; values compare as JSON (`3` and `3.0`, `training.epochs`
 * and `/training/epochs` are the same flag). Empty when no flag touches a changed section (the file
 * changed). Called by resume when the pipelines differ; reads its arguments only.
 */
export function overrideChanges(
  changed: readonly string[],
  recorded: readonly CommandOverride[],
  current: readonly CommandOverride[],
): string[] {
  const touches = (o: CommandOverride): boolean => changed.includes(tokensOf(o.pointer)[0] ?? '');
  const last = (list: readonly CommandOverride[]): Map<string, CommandOverride> =>
    new Map(list.filter(touches).map((o) => [o.pointer, o]));
  const before = last(recorded);
  const now = last(recordOverrides(current));
  const phrases: string[] = [];
  for (const [pointer, o] of before) {
    const n = now.get(pointer);
    if (!n) phrases.push(`it was started with --set ${o.text}, which this command lacks`);
    else if (canonicalJson(n.value) !== canonicalJson(o.value))
      phrases.push(`this command has --set ${n.text} where it was started with --set ${o.text}`);
  }
  for (const [pointer, n] of now)
    if (!before.has(pointer)) phrases.push(`this command adds --set ${n.text}, which its start did not have`);
  return phrases;
}
