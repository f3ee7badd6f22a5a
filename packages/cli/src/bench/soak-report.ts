import type { TrafficMinute } from './soak-traffic.js';

/** One minute of a soak: the traffic's figures and the run process's memory and progress. */
export interface Minute extends TrafficMinute {
  readonly minute: number;
  readonly rssMb: number;
  readonly tensors: { training?: number; serving?: number };
  /** V8 heap in use per thread, MB (`engram_heap_used_bytes`): tells a JS leak from native growth. */
  readonly heapMb: { training?: number; serving?: number };
  readonly trained: number;
}

/** One run process's RSS growth: from its second minute (start-up settled) to its last. */
export interface ProcessGrowth {
  readonly fromMinute: number;
  readonly toMinute: number;
  readonly growth: number;
}

/**
 * RSS growth within each process of the soak (the rows between SIGKILLs): a restart resets RSS, so a growth
 * measured across it would hide a leak. Processes that lived fewer than three minutes are left out.
 */
export function growthPerProcess(rows: readonly Minute[], killMinutes: readonly number[]): ProcessGrowth[] {
  const bounds = [0, ...killMinutes, Infinity];
  const out: ProcessGrowth[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    // The minute holding a kill belongs to neither process's settled stretch.
    const lo = bounds[i] as number;
    const hi = bounds[i + 1] as number;
    const own = rows.filter((r) => r.minute > lo && r.minute < hi && Number.isFinite(r.rssMb));
    if (own.length < 3) continue;
    const first = own[1] as Minute;
    const last = own[own.length - 1] as Minute;
    out.push({ fromMinute: first.minute, toMinute: last.minute, growth: (last.rssMb - first.rssMb) / first.rssMb });
  }
  return out;
}
