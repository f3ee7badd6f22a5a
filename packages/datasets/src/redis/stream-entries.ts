/** One stream entry as Redis returns it: its id and fields (null when the entry was deleted or trimmed). */
export interface StreamEntry {
  readonly id: string;
  readonly fields: Readonly<Record<string, string>> | null;
}

/** Entries of `[id, [field, value, …] | null]` pairs. */
export function parseEntries(raw: unknown): StreamEntry[] {
  if (!Array.isArray(raw)) return [];
  const out: StreamEntry[] = [];
  for (const item of raw) {
    if (!Array.isArray(item) || typeof item[0] !== 'string') continue;
    const flat: unknown = item[1];
    if (!Array.isArray(flat)) {
      out.push({ id: item[0], fields: null });
      continue;
    }
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[String(flat[i])] = String(flat[i + 1]);
    out.push({ id: item[0], fields });
  }
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
