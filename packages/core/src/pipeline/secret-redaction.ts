/** What a secret is replaced by in a stored copy of a pipeline. */
export const REDACTED = '[redacted]';

/** Pipeline settings that hold a secret as a whole (JSON pointers). */
const SECRET_SETTINGS: ReadonlyArray<readonly string[]> = [
  ['serve', 'token'],
  ['serve', 'metricsToken'],
];

/** A value that only names environment variables (`${NAME}`): it holds no secret itself. */
const REFERENCE = /^(\$\{[A-Za-z_][A-Za-z0-9_]*\})+$/;

/** The password of a URL (`scheme://user:password@host`), unless it is a `${NAME}` reference. */
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^:@/\s]*):([^@/\s]+)@/gi;

function redactString(text: string): string {
  return text.replace(URL_PASSWORD, (whole, head: string, password: string) =>
    REFERENCE.test(password) ? whole : `${head}:${REDACTED}@`,
  );
}

function redactValue(value: unknown): unknown {
  if (typeof value === 'string') return redactString(value);
  if (Array.isArray(value)) return value.map(redactValue);
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v)]));
  return value;
}

/**
 * A copy of a pipeline document fit to be written next to a run (checkpoints' `run.json`, the run
 * lineage, `summary.json`, reports): `serve.token` and `serve.metricsToken` written literally are
 * replaced by {@link REDACTED}, and so is the password of every URL in a string (`redis://user:pw@…`).
 * Values that only name environment variables (`${ENGRAM_SERVE_TOKEN}`) are kept: they are not
 * secrets, and a resumed run reads them again. Called wherever the engine stores the pipeline; the
 * document given is not changed.
 */
export function redactSecrets<T>(doc: T): T {
  const copy = redactValue(doc) as T;
  for (const path of SECRET_SETTINGS) {
    let parent: unknown = copy;
    for (const key of path.slice(0, -1))
      parent = typeof parent === 'object' && parent !== null ? (parent as Record<string, unknown>)[key] : undefined;
    const last = path[path.length - 1] ?? '';
    if (typeof parent !== 'object' || parent === null) continue;
    const holder = parent as Record<string, unknown>;
    const value = holder[last];
    if (typeof value === 'string' && !REFERENCE.test(value)) holder[last] = REDACTED;
  }
  return copy;
}
