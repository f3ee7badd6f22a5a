/** A bench command line split into flags and valued options (see {@link parseBenchArgs}). */
export interface BenchArgs {
  /** Flags given (`--json`). */
  readonly flags: ReadonlySet<string>;
  /** Every value of each valued option, in order (`--python A --python B`). */
  readonly values: ReadonlyMap<string, readonly string[]>;
  /** The last value of `name`, if given. */
  value(name: string): string | undefined;
  /** `name`'s value as a positive integer, `fallback` when absent; throws a one-line error for anything else. */
  positiveInt(name: string, fallback: number): number;
  /** `name`'s value as a positive number, `fallback` when absent; throws a one-line error for anything else. */
  positiveNumber(name: string, fallback: number): number;
}

/**
 * Splits `argv` of one of the bench commands into `flags` (no value) and `valued` options (the next
 * argument is the value; repeatable). Throws a one-line error — the caller prints it with its usage and
 * exits 2 — for an unknown argument or a valued option without a value.
 */
export function parseBenchArgs(
  argv: readonly string[],
  spec: { readonly flags: readonly string[]; readonly valued: readonly string[] },
): BenchArgs {
  const known = new Set(spec.flags);
  const valued = new Set(spec.valued);
  const flags = new Set<string>();
  const values = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (known.has(a)) flags.add(a);
    else if (valued.has(a)) {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`);
      values.set(a, [...(values.get(a) ?? []), v]);
    } else throw new Error(`unknown argument ${a}`);
  }
  const value = (name: string): string | undefined => values.get(name)?.at(-1);
  const number = (name: string, fallback: number, integer: boolean): number => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!(n > 0) || !Number.isFinite(n) || (integer && !Number.isInteger(n)))
      throw new Error(`${name} must be a positive ${integer ? 'integer' : 'number'}, got ${raw}`);
    return n;
  };
  return {
    flags,
    values,
    value,
    positiveInt: (name, fallback) => number(name, fallback, true),
    positiveNumber: (name, fallback) => number(name, fallback, false),
  };
}
