import { readFileSync } from 'node:fs';

/**
 * How quiet the machine was while the bench ran: CPU time that processes other than the bench (and
 * the children it waited for: the PyTorch script, the big-model runs) used, from `/proc/stat` minus
 * `/proc/self/stat`. Both count in the kernel's USER_HZ ticks, and elapsed time is taken from the
 * same `/proc/stat` total (idle included) divided by the number of CPUs, so no clock rate is needed.
 */

/** Default limit: other processes may use at most this fraction of one core for a quiet measurement. */
export const QUIET_OTHERS_CORES = 0.1;

/** One reading of the machine's and the bench's CPU counters. */
export interface CpuSnapshot {
  /** Busy ticks of all CPUs: user + nice + system + irq + softirq + steal (guest time is inside user). */
  readonly busy: number;
  /** All ticks of all CPUs, idle and iowait included. */
  readonly total: number;
  /** Number of CPUs (`cpuN` lines). */
  readonly cpus: number;
  /** Ticks of this process and its reaped children: utime + stime + cutime + cstime. */
  readonly own: number;
  /** 1-minute load average. */
  readonly load1: number;
}

/** What happened between two snapshots. */
export interface Quietness {
  /** CPU used by other processes, in cores (0.25 = a quarter of one core on average). */
  readonly othersCores: number;
  /** CPU used by the bench and its children, in cores. */
  readonly ownCores: number;
  /** Elapsed time, in ticks per CPU (USER_HZ, normally 100 per second). */
  readonly ticks: number;
  readonly load1Start: number;
  readonly load1End: number;
  /** True when others used at most the limit (default {@link QUIET_OTHERS_CORES}). */
  readonly quiet: boolean;
}

/** Parses the aggregate `cpu` line and counts the `cpuN` lines of `/proc/stat`. */
export function parseProcStat(text: string): { busy: number; total: number; cpus: number } {
  const lines = text.split('\n');
  const agg = lines.find((l) => /^cpu\s/.test(l));
  if (!agg) throw new Error('/proc/stat has no aggregate "cpu" line');
  const f = agg.trim().split(/\s+/).slice(1).map(Number);
  const at = (i: number): number => (Number.isFinite(f[i]) ? (f[i] as number) : 0);
  // user nice system idle iowait irq softirq steal guest guest_nice; guest(_nice) are already in user(nice).
  const busy = at(0) + at(1) + at(2) + at(5) + at(6) + at(7);
  const total = busy + at(3) + at(4);
  const cpus = lines.filter((l) => /^cpu\d+\s/.test(l)).length;
  return { busy, total, cpus: Math.max(1, cpus) };
}

/** utime + stime + cutime + cstime of a `/proc/<pid>/stat` line (the command name may hold spaces or parentheses). */
export function parseSelfStat(text: string): number {
  const rest = text
    .slice(text.lastIndexOf(')') + 2)
    .trim()
    .split(/\s+/)
    .map(Number);
  // rest[0] is field 3 (state); utime..cstime are fields 14..17.
  const ticks = [11, 12, 13, 14].map((i) => rest[i]);
  if (ticks.some((t) => t === undefined || !Number.isFinite(t))) throw new Error('unexpected /proc/self/stat format');
  return (ticks as number[]).reduce((a, b) => a + b, 0);
}

/**
 * Builds a snapshot from the texts of `/proc/stat`, `/proc/self/stat` and `/proc/loadavg`; the
 * `/proc/<pid>/stat` texts of `helpers` (processes the bench started but does not reap, such as its
 * redis-server) count as the bench's own.
 */
export function snapshotOf(
  procStat: string,
  selfStat: string,
  loadavg: string,
  helpers: readonly string[] = [],
): CpuSnapshot {
  const own = helpers.reduce((sum, h) => sum + parseSelfStat(h), parseSelfStat(selfStat));
  return { ...parseProcStat(procStat), own, load1: Number(loadavg.split(/\s+/)[0]) };
}

/**
 * Reads a snapshot now, or undefined where there is no `/proc` (not Linux). `helperPids`' CPU counts
 * as the bench's own (a pid that is gone counts nothing).
 */
export function readCpuSnapshot(helperPids: readonly number[] = []): CpuSnapshot | undefined {
  try {
    const helpers = helperPids.flatMap((pid) => {
      try {
        return [readFileSync(`/proc/${pid}/stat`, 'utf8')];
      } catch {
        return [];
      }
    });
    return snapshotOf(
      readFileSync('/proc/stat', 'utf8'),
      readFileSync('/proc/self/stat', 'utf8'),
      readFileSync('/proc/loadavg', 'utf8'),
      helpers,
    );
  } catch {
    return undefined;
  }
}

/** The CPU others used between `a` and `b`, and whether that stayed within `limitCores`. */
export function quietnessBetween(a: CpuSnapshot, b: CpuSnapshot, limitCores = QUIET_OTHERS_CORES): Quietness {
  const ticks = (b.total - a.total) / b.cpus;
  const own = Math.max(0, b.own - a.own);
  // Per-process and per-CPU accounting are sampled differently; a small negative difference is noise.
  const others = Math.max(0, b.busy - a.busy - own);
  const othersCores = ticks > 0 ? others / ticks : 0;
  return {
    othersCores,
    ownCores: ticks > 0 ? own / ticks : 0,
    ticks,
    load1Start: a.load1,
    load1End: b.load1,
    quiet: othersCores <= limitCores,
  };
}

/**
 * Runs `fn` and reports how quiet the machine was meanwhile (undefined quietness without `/proc`);
 * `helperPids`' CPU counts as the bench's own.
 */
export async function withQuietness<T>(
  fn: () => Promise<T>,
  limitCores = QUIET_OTHERS_CORES,
  helperPids: readonly number[] = [],
): Promise<{ result: T; quietness: Quietness | undefined }> {
  const a = readCpuSnapshot(helperPids);
  const result = await fn();
  const b = readCpuSnapshot(helperPids);
  return { result, quietness: a && b ? quietnessBetween(a, b, limitCores) : undefined };
}
