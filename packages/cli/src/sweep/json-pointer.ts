/** Splits an RFC 6901 JSON pointer (`/a/b~1c` → `['a', 'b/c']`); throws on a malformed one. */
export function pointerTokens(pointer: string): string[] {
  if (!/^(\/([^~/]|~[01])*)+$/.test(pointer))
    throw new Error(`"${pointer}" is not a JSON pointer (e.g. /strategy/0/lambda)`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Tokens a swept pointer may not contain: they reach an object's prototype instead of a pipeline field. */
export const FORBIDDEN_TOKENS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Splits `pointer` like {@link pointerTokens} and refuses a `__proto__`, `constructor` or `prototype`
 * token (prototype pollution); throws a one-line error naming the token.
 */
export function safePointerTokens(pointer: string): string[] {
  const tokens = pointerTokens(pointer);
  const bad = tokens.find((t) => FORBIDDEN_TOKENS.has(t));
  if (bad !== undefined) throw new Error(`"${bad}" is not allowed in a pointer (no pipeline field has that name)`);
  return tokens;
}

/** Escapes one token for use in a pointer. */
export function escapeToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * Sets `value` at `pointer` inside `doc` (mutated). The parent must exist: an object (the key may be
 * new; only own properties are followed, never a prototype) or an array (the index must exist). Throws a one-line error saying where the path breaks.
 */
export function setAtPointer(doc: unknown, pointer: string, value: unknown): void {
  const tokens = safePointerTokens(pointer);
  let node: unknown = doc;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    const last = i === tokens.length - 1;
    const here = `/${tokens.slice(0, i).map(escapeToken).join('/')}`;
    if (Array.isArray(node)) {
      const index = Number(token);
      if (!/^\d+$/.test(token) || index >= node.length)
        throw new Error(`${pointer}: ${here} is an array of ${node.length}, no index ${token}`);
      if (last) node[index] = value;
      else node = node[index];
    } else if (node !== null && typeof node === 'object') {
      const obj = node as Record<string, unknown>;
      if (last) Object.defineProperty(obj, token, { value, enumerable: true, writable: true, configurable: true });
      else if (!Object.hasOwn(obj, token))
        throw new Error(
          `${pointer}: the base pipeline has nothing at /${tokens
            .slice(0, i + 1)
            .map(escapeToken)
            .join('/')}`,
        );
      else node = obj[token];
    } else {
      throw new Error(`${pointer}: ${here === '/' ? 'the document' : here} is not an object or array`);
    }
  }
}
