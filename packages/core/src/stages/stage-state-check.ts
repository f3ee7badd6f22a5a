/**
 * Checks of what a plugin stage hands the run, used by `guardStage`: thrown values and `state()`.
 * Each returns a one-line reason (no stack, no dump of the value) or `undefined`.
 */

const MAX_DEPTH = 200;

/** One line for anything thrown or rejected: an Error's first message line, else the value described. */
export function describeThrown(e: unknown): string {
  if (e instanceof Error) return (e.message.split('\n')[0] ?? '') || e.name;
  if (typeof e === 'string') return e.split('\n')[0] ?? '';
  let shown: string;
  try {
    shown = typeof e === 'bigint' ? `${e}n` : (JSON.stringify(e) ?? String(e));
  } catch {
    shown = Object.prototype.toString.call(e);
  }
  return `threw or rejected with a non-Error value: ${shown.length > 120 ? `${shown.slice(0, 117)}...` : shown}`;
}

/** Where `value` (under `at`) is not a JSON value `JSON.stringify` round-trips exactly, or `undefined`. */
export function jsonProblem(value: unknown, at: string, seen: Set<object> = new Set(), depth = 0): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${at} is ${value} (not JSON)`;
  if (typeof value === 'bigint') return `${at} is a BigInt (not JSON)`;
  if (typeof value !== 'object')
    return `${at} is ${typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`} (not JSON)`;
  if (seen.has(value)) return `${at} is circular (refers back to itself)`;
  if (depth > MAX_DEPTH) return `${at} nests deeper than ${MAX_DEPTH} levels`;
  if (ArrayBuffer.isView(value)) return `${at} is a typed array: put it in "arrays", not "meta"`;
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const p = jsonProblem(value[i], `${at}/${i}`, seen, depth + 1);
        if (p !== undefined) return p;
      }
      return undefined;
    }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return `${at} is not a plain object`;
    for (const [k, v] of Object.entries(value)) {
      const p = jsonProblem(v, `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, seen, depth + 1);
      if (p !== undefined) return p;
    }
    return undefined;
  } finally {
    seen.delete(value);
  }
}

/** Why an `arrays` entry is not a `StateArray` (dtype, integer shape, data of that type and length), or `undefined`. */
function arrayProblem(name: string, a: unknown): string | undefined {
  const at = `arrays.${name}`;
  if (a === null || typeof a !== 'object')
    return `${at} is ${a === null ? 'null' : typeof a}, not { dtype, shape, data }`;
  const { dtype, shape, data } = a as { dtype?: unknown; shape?: unknown; data?: unknown };
  if (dtype !== 'float32' && dtype !== 'int32') return `${at}.dtype must be "float32" or "int32"`;
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || (d as number) < 0))
    return `${at}.shape must be an array of non-negative integers`;
  const want = dtype === 'float32' ? Float32Array : Int32Array;
  if (!(data instanceof want)) return `${at}.data must be ${dtype === 'float32' ? 'a Float32Array' : 'an Int32Array'}`;
  const size = (shape as number[]).reduce((x, y) => x * y, 1);
  if (data.length !== size)
    return `${at}.data has ${data.length} values for shape [${shape.join(', ')}] (needs ${size})`;
  return undefined;
}

/** Why `s`, returned by a stage's `state()`, cannot be checkpointed, or `undefined`. */
export function checkStageState(s: unknown): string | undefined {
  if (s === null || typeof s !== 'object' || Array.isArray(s))
    return `returned ${s === null ? 'null' : Array.isArray(s) ? 'an array' : typeof s}, not { meta?, arrays? }`;
  const { meta, arrays } = s as { meta?: unknown; arrays?: unknown };
  if (meta !== undefined) {
    const p = jsonProblem(meta, 'meta');
    if (p !== undefined) return `returned state whose ${p}`;
  }
  if (arrays !== undefined) {
    if (arrays === null || typeof arrays !== 'object' || Array.isArray(arrays))
      return 'returned "arrays" that is not an object of named arrays';
    for (const [name, a] of Object.entries(arrays)) {
      const p = arrayProblem(name, a);
      if (p !== undefined) return `returned state whose ${p}`;
    }
  }
  return undefined;
}
