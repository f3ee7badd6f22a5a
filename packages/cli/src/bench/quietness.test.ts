import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseProcStat, parseSelfStat, quietnessBetween, readCpuSnapshot, snapshotOf } from './quietness.js';

const procStat = (user: number, system: number, idle: number, steal = 0): string =>
  [
    `cpu  ${user} 0 ${system} ${idle} 10 0 5 ${steal} 0 0`,
    `cpu0 ${user / 2} 0 ${system / 2} ${idle / 2} 5 0 2 0 0 0`,
    `cpu1 ${user / 2} 0 ${system / 2} ${idle / 2} 5 0 3 0 0 0`,
    'intr 12345 0 0',
    'ctxt 999',
  ].join('\n');

// A command name with a space and a parenthesis, as `(node (bench))` could be.
const selfStat = (utime: number, stime: number, cutime: number, cstime: number): string =>
  `4242 (node (be nch)) R 1 4242 4242 0 -1 4194304 99 0 0 0 ${utime} ${stime} ${cutime} ${cstime} 20 0 1 0 39659 3133440 379`;

test('parseProcStat sums busy fields without guest, counts ticks with idle and iowait, and counts cpuN lines', () => {
  const s = parseProcStat(
    'cpu  100 7 50 1000 20 3 4 6 30 2\ncpu0 1 1 1 1 1 1 1 1 0 0\ncpu1 1 1 1 1 1 1 1 1 0 0\ncpu2 1 1 1 1 1 1 1 1 0 0\n',
  );
  assert.deepEqual(s, { busy: 100 + 7 + 50 + 3 + 4 + 6, total: 100 + 7 + 50 + 3 + 4 + 6 + 1000 + 20, cpus: 3 });
  assert.throws(() => parseProcStat('intr 1\n'), /no aggregate "cpu" line/);
});

test("parseSelfStat adds utime, stime and the reaped children's times past a name with spaces and parentheses", () => {
  assert.equal(parseSelfStat(selfStat(120, 30, 400, 50)), 600);
  assert.throws(() => parseSelfStat('12 (x) R 1 2'), /unexpected \/proc\/self\/stat format/);
});

test('a bench alone on the machine is quiet: all busy ticks are its own', () => {
  // 2 CPUs, 10 s at 100 Hz = 2,000 ticks in all; the bench used 1 core (1,000 ticks), nobody else did.
  const a = snapshotOf(procStat(1000, 200, 5000), selfStat(100, 10, 0, 0), '0.50 0.40 0.30 1/100 42');
  const b = snapshotOf(procStat(1900, 300, 6000), selfStat(1000, 110, 0, 0), '1.02 0.50 0.35 2/100 43');
  const q = quietnessBetween(a, b);
  assert.equal(q.ticks, 1000);
  assert.equal(q.ownCores, 1);
  assert.equal(q.othersCores, 0);
  assert.equal(q.quiet, true);
  assert.equal(q.load1Start, 0.5);
  assert.equal(q.load1End, 1.02);
});

test('another process using a quarter of a core makes the round not quiet; 5 % of a core does not', () => {
  const a = snapshotOf(procStat(1000, 200, 5000), selfStat(0, 0, 0, 0), '0 0 0 1/1 1');
  // 1,000 ticks per CPU elapsed; the bench used 600, the machine was busy for 850: others 250 = 0.25 core.
  const busy = snapshotOf(procStat(1700, 350, 6150), selfStat(500, 100, 0, 0), '2 0 0 1/1 1');
  assert.equal(quietnessBetween(a, busy).othersCores, 0.25);
  assert.equal(quietnessBetween(a, busy).quiet, false);
  // others 50 ticks = 0.05 core.
  const calm = snapshotOf(procStat(1550, 300, 6350), selfStat(500, 100, 0, 0), '1 0 0 1/1 1');
  assert.equal(quietnessBetween(a, calm).othersCores, 0.05);
  assert.equal(quietnessBetween(a, calm).quiet, true);
  assert.equal(quietnessBetween(a, calm, 0.01).quiet, false);
});

test("CPU of a child the bench waited for (cutime) counts as the bench's own, steal time as others'", () => {
  const a = snapshotOf(procStat(1000, 200, 5000, 0), selfStat(0, 0, 0, 0), '0 0 0 1/1 1');
  // The PyTorch child used 1.5 cores for 1,000 ticks per CPU; the hypervisor stole 200 ticks.
  const b = snapshotOf(procStat(2500, 200, 5300, 200), selfStat(0, 0, 1400, 100), '0 0 0 1/1 1');
  const q = quietnessBetween(a, b);
  assert.equal(q.ownCores, 1.5);
  assert.equal(q.othersCores, 0.2);
  assert.equal(q.quiet, false);
});

test("readCpuSnapshot reads this machine's counters where /proc exists", { skip: process.platform !== 'linux' }, () => {
  const s = readCpuSnapshot();
  assert.ok(s);
  assert.ok(s.total > s.busy && s.busy > 0 && s.cpus >= 1 && s.own >= 0 && s.load1 >= 0);
});

test("a helper process the bench started (its redis-server) counts as the bench's own CPU, not others'", () => {
  const a = snapshotOf(procStat(1000, 200, 5000), selfStat(0, 0, 0, 0), '0 0 0 1/1 1', [selfStat(10, 0, 0, 0)]);
  // The bench used 600 ticks, its server 250 more: without the server, 0.25 core looks like others'.
  const b = snapshotOf(procStat(1700, 350, 6150), selfStat(500, 100, 0, 0), '0 0 0 1/1 1', [selfStat(200, 60, 0, 0)]);
  assert.equal(quietnessBetween(a, b).othersCores, 0);
  assert.equal(quietnessBetween(a, b).quiet, true);
  assert.equal(quietnessBetween(a, b).ownCores, 0.85);
});

test('readCpuSnapshot ignores a helper pid that is gone', { skip: process.platform !== 'linux' }, () => {
  assert.ok(readCpuSnapshot([2 ** 30]));
});
