/**
 * One stream entry as Redis returns it: its id and its fields and values, alternating
 * (`[field, value, …]`, the reply's own array, not copied); null when the entry was deleted or trimmed.
 */
export interface StreamEntry {
  readonly id: string;
  readonly fields: readonly unknown[] | null;
}

/** Entries of `[id, [field, value, …] | null]` pairs (the field arrays are kept as they are: no copy per entry). */
export function parseEntries(raw: unknown): StreamEntry[] {
  if (!Array.isArray(raw)) return [];
  const out: StreamEntry[] = [];
  for (const item of raw) {
    if (!Array.isArray(item) || typeof item[0] !== 'string') continue;
    const flat: unknown = item[1];
    out.push({ id: item[0], fields: Array.isArray(flat) ? flat : null });
  }
  return out;
}

/** The value of field `name` of an entry (the last one when repeated, as {@link fieldsObject} keeps), or undefined. */
export function fieldValue(e: StreamEntry, name: string): string | undefined {
  const f = e.fields;
  if (f === null) return undefined;
  let value: string | undefined;
  for (let i = 0; i + 1 < f.length; i += 2) if (String(f[i]) === name) value = String(f[i + 1]);
  return value;
}

/** An entry's fields as an object (for messages and the dead-letter stream). */
export function fieldsObject(e: StreamEntry): Record<string, string> {
  const out: Record<string, string> = {};
  const f = e.fields ?? [];
  for (let i = 0; i + 1 < f.length; i += 2) out[String(f[i])] = String(f[i + 1]);
  return out;
}

/** The entries of an `XREADGROUP … STREAMS key id` reply (null when nothing arrived in time). */
export function readGroupEntries(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  const first: unknown = reply[0];
  return Array.isArray(first) ? parseEntries(first[1]) : [];
}

/** The `XAUTOCLAIM` reply: the cursor for the next call and the claimed entries. */
export function autoClaimReply(reply: unknown): { next: string; entries: StreamEntry[] } {
  if (!Array.isArray(reply)) return { next: '0-0', entries: [] };
  return { next: typeof reply[0] === 'string' ? reply[0] : '0-0', entries: parseEntries(reply[1]) };
}

/** Orders two stream ids (`ms-seq`): negative, zero or positive. */
export function compareIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}
