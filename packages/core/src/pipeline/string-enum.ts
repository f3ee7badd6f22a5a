import { Type, type TUnsafe } from '@sinclair/typebox';

/**
 * A string restricted to `values`, emitted as `{ type: 'string', enum }` so that validation errors list
 * the allowed values once (a TypeBox union of literals would yield one error per literal).
 */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: Record<string, unknown> = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}
