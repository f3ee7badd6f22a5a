import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLock, RUN_LOCK_FILE, RUN_LOCK_LOG, tryRunLock, type RunLock } from './run-lock.js';

const LOCK_MODULE = fileURLToPath(new URL('./run-lock.js', import.meta.url));

/** The events of a folder's lock history, in order. */
function history(dir: string): Array<{ event: string; worker: string; pid: number }> {
  const file = join(dir, RUN_LOCK_LOG);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { event: string; worker: string; pid: number });
}

function held(attempt: ReturnType<typeof tryRunLock>): RunLock {
  if ('lock' in attempt) return attempt.lock;
  assert.fail(`expected the lock, it is held by ${JSON.stringify(attempt.heldBy)}`);
}

/**
 * A child process that tries the lock of `dir`, prints `lock` or `held`, then holds it until SIGTERM
 * (which exits 143 through process.exit: the exit hook releases) or exits at once with `exit`.
 */
function contender(
  dir: string,
  name: string,
  then: 'hold' | 'exit',
  periodMs = 60_000,
): ChildProcess & { said: Promise<string> } {
  const script = `
    const { tryRunLock } = await import(${JSON.stringify(LOCK_MODULE)});
    const a = tryRunLock(${JSON.stringify(dir)}, { worker: ${JSON.stringify(name)}, job: 'j', periodMs: ${periodMs} });
    process.stdout.write('lock' in a ? 'lock\\n' : 'held\\n');
    process.once('SIGTERM', () => process.exit(143));
    if (${JSON.stringify(then)} === 'exit') process.exit(0);
    setInterval(() => undefined, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const said = new Promise<string>((resolve) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.on('exit', () => resolve(out.trim()));
  });
  return Object.assign(child, { said });
}

const exited = (c: ChildProcess): Promise<void> =>
  c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', () => r()));

function folder(): string {
  return mkdtempSync(join(tmpdir(), 'engram-run-lock-'));
}

test('a free combination is locked, a second taker is refused with the holder named, and release frees it', () => {
  const dir = folder();
  try {
    const first = held(tryRunLock(dir, { worker: 'w1', job: '7' }));
    assert.equal(readLock(join(dir, RUN_LOCK_FILE))?.holder.worker, 'w1');
    const second = tryRunLock(dir, { worker: 'w2', job: '7' });
    assert.ok('heldBy' in second);
    assert.equal(second.heldBy.holder.worker, 'w1');
    assert.equal(second.heldBy.holder.pid, process.pid);
    assert.equal(second.heldBy.holder.token, first.holder.token);
    first.beat();
    first.beat();
    const lines = readFileSync(join(dir, RUN_LOCK_FILE), 'utf8').trim().split('\n');
    assert.equal(lines.length, 3, 'the holder line and two heartbeats');
    assert.ok(first.holds());
    first.release();
    first.release();
    assert.equal(existsSync(join(dir, RUN_LOCK_FILE)), false);
    const third = held(tryRunLock(dir, { worker: 'w2', job: '7' }));
    third.release();
    assert.deepEqual(
      history(dir).map((e) => `${e.event} ${e.worker}`),
      ['taken w1', 'refused w2', 'released w1', 'taken w2', 'released w2'],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the lock of a holder killed with SIGKILL on this host is taken over at once (its pid is dead)', async () => {
  const dir = folder();
  try {
    const victim = contender(dir, 'victim', 'hold');
    assert.equal(await victim.said, 'lock');
    victim.kill('SIGKILL');
    await exited(victim);
    assert.equal(existsSync(join(dir, RUN_LOCK_FILE)), true, 'SIGKILL leaves the lock file');
    const lock = held(tryRunLock(dir, { worker: 'heir', job: 'j' }));
    assert.equal(readLock(join(dir, RUN_LOCK_FILE))?.holder.worker, 'heir');
    lock.release();
    assert.deepEqual(
      history(dir).map((e) => `${e.event} ${e.worker}`),
      ['taken victim', 'took-over heir', 'released heir'],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a lock from another host is refused while its heartbeat is recent and taken over once it is a period old', () => {
  const dir = folder();
  try {
    const file = join(dir, RUN_LOCK_FILE);
    const now = Date.now();
    const other = { pid: 1, host: 'elsewhere.example', worker: 'far', job: 'j', token: 't0', takenAt: now - 120_000 };
    writeFileSync(file, `${JSON.stringify(other)}\n${JSON.stringify({ heartbeat: now - 2_000 })}\n`);
    utimesSync(file, (now - 2_000) / 1000, (now - 2_000) / 1000);
    const early = tryRunLock(dir, { worker: 'near', job: 'j', periodMs: 30_000 });
    assert.ok('heldBy' in early, 'a heartbeat 2 s old is live within a 30 s period');
    assert.equal(early.heldBy.holder.host, 'elsewhere.example');
    utimesSync(file, (now - 40_000) / 1000, (now - 40_000) / 1000);
    writeFileSync(file, `${JSON.stringify(other)}\n${JSON.stringify({ heartbeat: now - 40_000 })}\n`);
    utimesSync(file, (now - 40_000) / 1000, (now - 40_000) / 1000);
    const late = held(tryRunLock(dir, { worker: 'near', job: 'j', periodMs: 30_000 }));
    late.release();
    assert.deepEqual(
      history(dir).map((e) => e.event),
      ['refused', 'took-over', 'released'],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a holder whose heartbeat stopped for a period loses the lock: it is told at its next beat and its release leaves the new lock alone', async () => {
  const dir = folder();
  try {
    let lostTo: string | undefined;
    const slow = held(
      tryRunLock(dir, {
        worker: 'slow',
        job: 'j',
        periodMs: 300,
        heartbeatMs: 3_600_000,
        onLost: (by) => (lostTo = by?.holder.worker),
      }),
    );
    await new Promise((r) => setTimeout(r, 700));
    const heir = held(tryRunLock(dir, { worker: 'heir', job: 'j', periodMs: 300 }));
    assert.equal(slow.holds(), false);
    slow.beat();
    assert.equal(lostTo, 'heir');
    slow.release();
    assert.equal(readLock(join(dir, RUN_LOCK_FILE))?.holder.worker, 'heir', 'the loser did not remove it');
    heir.release();
    assert.deepEqual(
      history(dir).map((e) => `${e.event} ${e.worker}`),
      ['taken slow', 'took-over heir', 'lost slow', 'released heir'],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a holder that exits, or exits on SIGTERM, releases its lock; one that stays refuses every other process', async () => {
  const dir = folder();
  try {
    const quitter = contender(dir, 'quitter', 'exit');
    assert.equal(await quitter.said, 'lock');
    await exited(quitter);
    assert.equal(existsSync(join(dir, RUN_LOCK_FILE)), false, 'released on exit');
    const holder = contender(dir, 'holder', 'hold');
    assert.equal(await holder.said, 'lock');
    const other = contender(dir, 'other', 'exit');
    assert.equal(await other.said, 'held');
    await exited(other);
    holder.kill('SIGTERM');
    await exited(holder);
    assert.equal(holder.exitCode, 143);
    assert.equal(existsSync(join(dir, RUN_LOCK_FILE)), false, 'released on SIGTERM');
    assert.deepEqual(
      history(dir).map((e) => `${e.event} ${e.worker}`),
      ['taken quitter', 'released quitter', 'taken holder', 'refused other', 'released holder'],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('six processes racing for a free lock, then six for a stale one: exactly one wins each time', async () => {
  const dir = folder();
  const all: ChildProcess[] = [];
  try {
    for (const round of ['free', 'stale'] as const) {
      if (round === 'stale') {
        const victim = contender(dir, 'victim', 'hold');
        all.push(victim);
        assert.equal(await victim.said, 'lock');
        victim.kill('SIGKILL');
        await exited(victim);
      }
      const racers = Array.from({ length: 6 }, (_, i) => contender(dir, `${round}-${i}`, 'hold'));
      all.push(...racers);
      const said = await Promise.all(racers.map((r) => r.said));
      assert.equal(said.filter((s) => s === 'lock').length, 1, `${round}: ${said.join(' ')}`);
      assert.equal(said.filter((s) => s === 'held').length, 5, `${round}: ${said.join(' ')}`);
      for (const r of racers) r.kill('SIGTERM');
      await Promise.all(racers.map(exited));
      assert.equal(existsSync(join(dir, RUN_LOCK_FILE)), false);
    }
    const events = history(dir).map((e) => e.event);
    assert.equal(events.filter((e) => e === 'taken' || e === 'took-over').length, 3, events.join(' '));
    assert.ok(events.includes('took-over'), events.join(' '));
  } finally {
    for (const c of all) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(all.map(exited));
    rmSync(dir, { recursive: true, force: true });
  }
});
