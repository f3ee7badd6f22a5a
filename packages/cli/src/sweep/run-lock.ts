import {
  appendFileSync,
  closeSync,
  fstatSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** The lock file of a combination's folder: whoever holds it is the only process running that combination. */
export const RUN_LOCK_FILE = 'run.lock';
/** Append-only history of the lock (taken, refused, taken over, released, lost), one JSON line each. */
export const RUN_LOCK_LOG = 'run.lock.log';
const BREAKER_FILE = 'run.lock.break';

/** Who holds a run lock: the first line of the lock file. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** The worker's name (`engram worker` or `sweep-job`, with its pid and host). */
  readonly worker: string;
  /** The BullMQ job id (or `local`). */
  readonly job: string;
  /** Random per acquisition: tells two holders with the same pid apart. */
  readonly token: string;
  /** When the lock was taken (ms since epoch). */
  readonly takenAt: number;
}

/** What a lock file says about its holder, with the time of its last heartbeat. */
export interface LockState {
  readonly holder: LockHolder;
  /** The last heartbeat (ms since epoch): the later of the last heartbeat line and the file's mtime. */
  readonly heartbeat: number;
}

/** Options of {@link tryRunLock}. */
export interface RunLockOptions {
  /** The worker's name, recorded in the lock and its history. */
  readonly worker: string;
  /** The job id, recorded in the lock and its history. */
  readonly job: string;
  /** A lock whose last heartbeat is older than this is stale and may be taken over (default 60 s). */
  readonly periodMs?: number;
  /** How often the holder appends a heartbeat (default a sixth of the period). */
  readonly heartbeatMs?: number;
  /** Called once if the holder finds its lock was taken over (its heartbeat stopped for a whole period). */
  readonly onLost?: (by: LockState | undefined) => void;
}

/** The outcome of {@link tryRunLock}: the held lock, or who holds it. */
export type LockAttempt = { readonly lock: RunLock } | { readonly heldBy: LockState };

/** Whether `pid` is a live process on this host. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reads a lock file; `undefined` if it is gone or not a lock (a half-written first line counts as gone). */
export function readLock(file: string): LockState | undefined {
  let text: string;
  let mtime: number;
  try {
    text = readFileSync(file, 'utf8');
    mtime = statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
  const lines = text.split('\n').filter((l) => l !== '');
  let holder: LockHolder | undefined;
  let beat = 0;
  for (const [i, line] of lines.entries()) {
    try {
      const v = JSON.parse(line) as Record<string, unknown>;
      if (i === 0) holder = v as unknown as LockHolder;
      const t = Number(i === 0 ? v['takenAt'] : v['heartbeat']);
      if (Number.isFinite(t)) beat = Math.max(beat, t);
    } catch {
      // a heartbeat line cut short by a crash: the earlier lines still tell
    }
  }
  if (holder === undefined || typeof holder.pid !== 'number' || typeof holder.host !== 'string') return undefined;
  return { holder, heartbeat: Math.max(beat, mtime) };
}

/** Whether a lock may be taken over: its holder died on this host, or it missed heartbeats for `periodMs`. */
export function isStale(state: LockState, periodMs: number, now = Date.now()): boolean {
  if (state.holder.host === hostname() && !alive(state.holder.pid)) return true;
  return now - state.heartbeat > periodMs;
}

/** Appends one event to the combination's lock history. */
function record(dir: string, event: string, holder: LockHolder, extra: Record<string, unknown> = {}): void {
  const { pid, host, worker, job, token } = holder;
  const line = { at: new Date().toISOString(), t: Date.now(), event, pid, host, worker, job, token, ...extra };
  appendFileSync(join(dir, RUN_LOCK_LOG), `${JSON.stringify(line)}\n`);
}

/**
 * An exclusive, heartbeated lock on a sweep combination's folder, held while one process runs it. It
 * lives in the shared output folder, not in Redis, so it survives a Redis restart that forgets which
 * worker had the job. Created with `open(…, 'wx')`; while held, a heartbeat line is appended every
 * `heartbeatMs` through the open descriptor; {@link release} removes it. Created by {@link tryRunLock}.
 */
export class RunLock {
  private timer: NodeJS.Timeout | undefined;
  private lost = false;
  private readonly ino: number;
  private readonly exitHook = (): void => this.release();

  /** @internal use {@link tryRunLock} */
  constructor(
    readonly dir: string,
    readonly holder: LockHolder,
    private readonly fd: number,
    private readonly options: RunLockOptions,
  ) {
    this.ino = fstatSync(fd).ino;
    const period = options.periodMs ?? 60_000;
    this.timer = setInterval(() => this.beat(), options.heartbeatMs ?? Math.max(200, period / 6));
    this.timer.unref();
    process.once('exit', this.exitHook);
  }

  /** Whether this process still holds the lock (the file is the one it created). */
  holds(): boolean {
    if (this.lost || this.timer === undefined) return false;
    try {
      return statSync(join(this.dir, RUN_LOCK_FILE)).ino === this.ino;
    } catch {
      return false;
    }
  }

  /** Appends a heartbeat; finds out if the lock was taken over meanwhile (then calls `onLost`, once). */
  beat(): void {
    if (this.timer === undefined || this.lost) return;
    if (!this.holds()) {
      this.lost = true;
      const by = readLock(join(this.dir, RUN_LOCK_FILE));
      record(this.dir, 'lost', this.holder, by ? { to: by.holder.worker } : {});
      this.options.onLost?.(by);
      return;
    }
    writeSync(this.fd, `${JSON.stringify({ heartbeat: Date.now() })}\n`);
  }

  /**
   * Stops the heartbeat and removes the lock file if it is still this process's; idempotent. Called when
   * the run ends (completed, failed or stopped) and on process exit, so a SIGTERM-stopped worker frees
   * the combination at once; a SIGKILLed one leaves a lock that the next taker sees is stale (dead pid).
   */
  release(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    process.removeListener('exit', this.exitHook);
    const mine = !this.lost && statIno(join(this.dir, RUN_LOCK_FILE)) === this.ino;
    if (mine) {
      record(this.dir, 'released', this.holder);
      unlinkSync(join(this.dir, RUN_LOCK_FILE));
    }
    closeSync(this.fd);
  }
}

function statIno(file: string): number | undefined {
  try {
    return statSync(file).ino;
  } catch {
    return undefined;
  }
}

/**
 * Creates `file` exclusively with `text` already in it: written to a unique temporary file (`open(…, 'wx')`)
 * that is then hard-linked to `file` (the link fails if `file` exists, so readers never see a half-written
 * lock). The descriptor, or `undefined` if `file` exists.
 */
function createExclusive(file: string, text: string, token: string): number | undefined {
  const tmp = `${file}.${token}.new`;
  const fd = openSync(tmp, 'wx');
  try {
    writeSync(fd, text);
    linkSync(tmp, file);
    return fd;
  } catch (e) {
    closeSync(fd);
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw e;
  } finally {
    unlinkSync(tmp);
  }
}

/**
 * Takes the run lock of the combination folder `dir`, or says who holds it. A free folder is locked with
 * `open(run.lock, 'wx')`. A lock whose holder is dead (same host) or missed its heartbeats for a whole
 * period is taken over: under a short-lived breaker file (created with `wx`, so one taker at a time),
 * the stale lock is checked again and replaced by this process's lock in one `rename`. Every outcome is
 * appended to `run.lock.log`. Called by a worker before it runs a job, and by a local sweep's
 * `sweep-job` process; touches only `dir/run.lock*`.
 */
export function tryRunLock(dir: string, options: RunLockOptions): LockAttempt {
  const period = options.periodMs ?? 60_000;
  const file = join(dir, RUN_LOCK_FILE);
  const holder: LockHolder = {
    pid: process.pid,
    host: hostname(),
    worker: options.worker,
    job: options.job,
    token: randomBytes(6).toString('hex'),
    takenAt: Date.now(),
  };
  const first = `${JSON.stringify(holder)}\n`;
  for (let tries = 0; tries < 5; tries++) {
    const fd = createExclusive(file, first, holder.token);
    if (fd !== undefined) {
      record(dir, 'taken', holder);
      return { lock: new RunLock(dir, holder, fd, options) };
    }
    const state = readLock(file);
    if (state === undefined) continue; // released (or being created) just now: try again
    if (!isStale(state, period)) {
      record(dir, 'refused', holder, { heldBy: state.holder.worker, heldToken: state.holder.token });
      return { heldBy: state };
    }
    const taken = takeOver(dir, holder, first, state, period);
    if (taken === 'busy') {
      record(dir, 'refused', holder, { heldBy: state.holder.worker, heldToken: state.holder.token });
      return { heldBy: state };
    }
    if (taken !== undefined) {
      record(dir, 'took-over', holder, { from: state.holder.worker, fromToken: state.holder.token });
      return { lock: new RunLock(dir, holder, taken, options) };
    }
  }
  const state = readLock(file);
  if (state !== undefined) return { heldBy: state };
  throw new Error(`${file} is not a run lock (no holder line): remove it if no process runs this combination`);
}

/**
 * Replaces the stale lock `seen` by this process's under the breaker file. The new lock's descriptor;
 * `undefined` if the lock changed meanwhile (try again); `'busy'` if another process is taking it over.
 */
function takeOver(
  dir: string,
  holder: LockHolder,
  first: string,
  seen: LockState,
  period: number,
): number | 'busy' | undefined {
  const breaker = join(dir, BREAKER_FILE);
  const bfd = createExclusive(
    breaker,
    `${JSON.stringify({ pid: holder.pid, host: holder.host, t: Date.now() })}\n`,
    holder.token,
  );
  if (bfd === undefined) {
    // A taker that died inside its takeover leaves the breaker: cleared once it is a period old.
    try {
      if (Date.now() - statSync(breaker).mtimeMs > period) unlinkSync(breaker);
    } catch {
      // gone already
    }
    return 'busy';
  }
  try {
    const now = readLock(join(dir, RUN_LOCK_FILE));
    if (now === undefined || now.holder.token !== seen.holder.token || !isStale(now, period)) return undefined;
    const tmp = join(dir, `${RUN_LOCK_FILE}.${holder.token}`);
    const fd = openSync(tmp, 'wx');
    writeSync(fd, first);
    renameSync(tmp, join(dir, RUN_LOCK_FILE));
    return fd;
  } finally {
    closeSync(bfd);
    unlinkSync(breaker);
  }
}
