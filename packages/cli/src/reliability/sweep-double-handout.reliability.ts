import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '@engram/datasets/testing';
import { RUN_LOCK_FILE, RUN_LOCK_LOG } from '../sweep/run-lock.js';
import type { SweepResults } from '../sweep/sweep-results.js';
import { finalDigest } from '../commands/e2e-harness.js';
import { patience } from '../testing/patience.js';
import { reportCases } from './cases.js';
import { engram } from './cli-runner.js';
import { basePipeline } from './corpus.js';
import { start, stopAll, until, type Proc } from './worker-procs.js';

interface LockEvent {
  readonly event: 'taken' | 'took-over' | 'refused' | 'released' | 'lost';
  readonly token: string;
  readonly worker: string;
  readonly heldToken?: string;
  readonly fromToken?: string;
}

/** A combination's lock history (`run.lock.log`), in order. */
function lockHistory(dir: string): LockEvent[] {
  return readFileSync(join(dir, RUN_LOCK_LOG), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as LockEvent);
}

/**
 * Replays a lock history and fails if two holders ever overlapped: a `taken` only while nobody holds
 * the lock, a `took-over` only from the holder it names, a `refused` only while someone else holds it.
 * Returns how many times the lock was held.
 */
function assertOneHolderAtATime(events: readonly LockEvent[], what: string): number {
  let holder: string | undefined;
  let holds = 0;
  for (const [i, e] of events.entries()) {
    const at = `${what} event ${i} (${e.event} by ${e.worker})`;
    if (e.event === 'taken') assert.equal(holder, undefined, `${at}: taken while held`);
    if (e.event === 'took-over') assert.equal(e.fromToken, holder, `${at}: took over from someone else`);
    if (e.event === 'refused') {
      assert.notEqual(holder, undefined, `${at}: refused while free`);
      assert.equal(e.heldToken, holder, `${at}: refused in the name of another holder`);
    }
    if (e.event === 'released' || e.event === 'lost') {
      assert.equal(e.token, holder, `${at}: released by a non-holder`);
      holder = undefined;
    }
    if (e.event === 'taken' || e.event === 'took-over') {
      holder = e.token;
      holds++;
    }
  }
  assert.equal(holder, undefined, `${what}: the lock is still held at the end`);
  return holds;
}

/** Fails unless a run's metrics.jsonl is one uninterrupted run: seq 0…n-1, one run-start, one completed run-end. */
function assertOneRun(dir: string, what: string): void {
  const events = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; seq: number; status?: string });
  assert.deepEqual(
    events.map((e) => e.seq),
    events.map((_, i) => i),
    `${what}: seq runs 0…${events.length - 1} without a gap or a repeat`,
  );
  assert.equal(events.filter((e) => e.type === 'run-start').length, 1, `${what}: one run-start`);
  const ends = events.filter((e) => e.type === 'run-end');
  assert.deepEqual(
    ends.map((e) => e.status),
    ['completed'],
    `${what}: one completed run-end`,
  );
}

/** A folder with base.json (≈ 640 steps, long enough to catch a run mid-way) and a 2-seed sweep over it. */
function work(): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'engram-double-handout-'));
  const doc = basePipeline();
  doc['data'] = { ...(doc['data'] as object), samplesPerClass: 100 };
  doc['training'] = { epochs: 8, batchSize: 4 };
  writeFileSync(join(dir, 'base.json'), JSON.stringify(doc));
  const file = join(dir, 'seeds.sweep.json');
  writeFileSync(file, JSON.stringify({ pipeline: 'base.json', grid: { '/seed': [1, 2] } }));
  return { dir, file };
}

/** The combination folders of `DIR/<out>`. */
const combinations = (dir: string, out: string): string[] =>
  readdirSync(join(dir, out)).filter((n) => existsSync(join(dir, out, n, 'job.json')));

/** Every combination's result in `DIR/<out>/sweep.json` by name, without its folder (which differs by `out`). */
function figures(dir: string, out: string): Map<string, unknown> {
  const results = JSON.parse(readFileSync(join(dir, out, 'sweep.json'), 'utf8')) as SweepResults;
  return new Map(results.combinations.map(({ dir: _dir, ...rest }) => [rest.name, rest]));
}

test(
  'a job handed out twice (Redis restarted without persistence mid-job) is never run twice at a time: the second worker ' +
    'is refused by the run lock and defers, each run is one uninterrupted sequence, and the results equal a local sweep',
  async () => {
    const { dir, file } = work();
    const redis = await startRedis({ persistence: false });
    const procs: Proc[] = [];
    try {
      const sweep = start(['sweep', file, '--out', 'dist', '--redis', redis.url, '--redis-wait', '600'], dir);
      const first = start(['worker', '--redis', redis.url, '--lock-seconds', '2'], dir);
      procs.push(sweep, first);
      assert.ok(await until(() => /job \S+ \S+: starting/.test(first.out), patience(120_000)), first.out);
      // Redis forgets every job; the sweep queues both again, and a second worker takes the first
      // combination's copy (FIFO) while the first worker is still running it.
      await redis.restart();
      const second = start(['worker', '--redis', redis.url, '--lock-seconds', '2'], dir);
      procs.push(second);
      assert.equal(await sweep.exited, 0, `${sweep.out}\n--- first\n${first.out}\n--- second\n${second.out}`);
      assert.match(sweep.out, /gone from Redis .*queued again/, sweep.out);
      assert.match(
        `${first.out}\n${second.out}`,
        /: already running in worker \S+:\d+ \(pid \d+ on \S+, job \S+, heartbeat \d+ s ago\); trying again in \d+ s/,
        `${first.out}\n--- second\n${second.out}`,
      );
      const combos = combinations(dir, 'dist');
      assert.equal(combos.length, 2, combos.join(', '));
      let refusals = 0;
      let holds = 0;
      for (const c of combos) {
        const at = join(dir, 'dist', c);
        const events = lockHistory(at);
        holds += assertOneHolderAtATime(events, c);
        refusals += events.filter((e) => e.event === 'refused').length;
        assertOneRun(at, c);
        assert.equal(existsSync(join(at, RUN_LOCK_FILE)), false, `${c}: no lock left behind`);
      }
      assert.ok(refusals >= 1, 'the double hand-out happened and was refused');
      const local = await engram(['sweep', file, '--out', 'local', '--parallel', '2'], { cwd: dir });
      assert.equal(local.code, 0, local.stderr);
      assert.deepEqual(figures(dir, 'dist'), figures(dir, 'local'), 'distributed results equal the local sweep');
      reportCases('sweep-double-handout', 1);
      console.log(`# double hand-out: ${refusals} refusal(s), ${holds} lock holds over 2 combinations, one run each`);
    } finally {
      await stopAll(procs);
      await redis.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  'a worker SIGKILLed mid-job leaves its run lock behind: the worker handed the job next takes it over at once ' +
    '(dead pid), resumes from the checkpoint, and ends bit-identical to a local sweep',
  async () => {
    const { dir, file } = work();
    const redis = await startRedis({ persistence: false });
    const procs: Proc[] = [];
    try {
      const sweep = start(['sweep', file, '--out', 'dist', '--redis', redis.url], dir);
      const victim = start(['worker', '--redis', redis.url, '--lock-seconds', '2'], dir);
      procs.push(sweep, victim);
      const running = (): string | undefined => /job \S+ (\S+): starting/.exec(victim.out)?.[1];
      const checkpointed = (): boolean => {
        const name = running();
        const cks = name === undefined ? '' : join(dir, 'dist', name, 'checkpoints');
        return cks !== '' && existsSync(cks) && readdirSync(cks).some((n) => n.startsWith('step-'));
      };
      assert.ok(await until(checkpointed, patience(120_000)), victim.out);
      victim.child.kill('SIGKILL');
      await victim.exited;
      const name = running() as string;
      const at = join(dir, 'dist', name);
      assert.equal(existsSync(join(at, RUN_LOCK_FILE)), true, 'SIGKILL leaves the run lock');
      assert.equal(existsSync(join(at, 'summary.json')), false, `${name} was killed mid-way`);
      const heir = start(['worker', '--redis', redis.url, '--lock-seconds', '2'], dir);
      procs.push(heir);
      assert.equal(await sweep.exited, 0, `${sweep.out}\n--- heir\n${heir.out}`);
      assert.match(heir.out, new RegExp(`${name}: resuming from its checkpoint`), heir.out);
      const events = lockHistory(at);
      assertOneHolderAtATime(events, name);
      const takeover = events.find((e) => e.event === 'took-over');
      assert.ok(takeover, JSON.stringify(events));
      assert.equal(takeover.fromToken, events[0]?.token, 'taken over from the killed worker');
      for (const c of combinations(dir, 'dist'))
        assert.equal(existsSync(join(dir, 'dist', c, RUN_LOCK_FILE)), false, `${c}: no lock left behind`);
      const local = await engram(['sweep', file, '--out', 'local', '--parallel', '2'], { cwd: dir });
      assert.equal(local.code, 0, local.stderr);
      assert.deepEqual(figures(dir, 'dist'), figures(dir, 'local'), 'distributed results equal the local sweep');
      for (const c of combinations(dir, 'dist'))
        assert.deepEqual(finalDigest(join(dir, 'dist', c)), finalDigest(join(dir, 'local', c)), `${c}: same weights`);
      reportCases('sweep-double-handout', 1);
      console.log(`# SIGKILLed holder: ${name} taken over at once and resumed, bit-identical to a local sweep`);
    } finally {
      await stopAll(procs);
      await redis.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
