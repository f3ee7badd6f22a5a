#!/usr/bin/env node
// `npm run test:reliability`: runs every compiled reliability file (packages/cli/dist/reliability/
// *.reliability.js) with node:test, two at a time, TAP on stdout as before, then prints ONE total:
//
//   reliability cases tried: 612 (damaged-checkpoints 25, hostile-clients 66, …)
//
// Each file reports what it tried with lines `# reliability cases: <surface> <n>` (reliability/cases.ts;
// the surface is the file's name). The run fails if the tests failed, or if a file reported no case.
//
// Hang guard: --test-timeout, which Node 20 applies to each test file as a whole: a generous budget
// (10 min quiet, stretched like every test wait by packages/cli/src/testing/patience.ts — load ÷ cores,
// doubled, so 20 min on a quiet 2-core CI machine, at most 40; ENGRAM_TEST_PATIENCE fixes the factor), far above what
// a file needs, so a file that hangs fails by name ("test timed out") instead of eating CI's time limit.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'packages', 'cli', 'dist');
const DIR = join(DIST, 'reliability');
const SUFFIX = '.reliability.js';
const QUIET_FILE_BUDGET_MS = 10 * 60_000;

const only = process.argv.slice(2);
const files = existsSync(DIR)
  ? readdirSync(DIR)
      .filter((n) => n.endsWith(SUFFIX))
      .filter((n) => only.length === 0 || only.some((o) => n.startsWith(o)))
      .sort()
      .map((n) => join(DIR, n))
  : [];
if (files.length === 0) {
  process.stderr.write(
    `no compiled reliability files in ${DIR}${only.length ? ` matching ${only.join(', ')}` : ''}: run npm run build first\n`,
  );
  process.exit(1);
}
const { patience } = await import(pathToFileURL(join(DIST, 'testing', 'patience.js')).href);
// At most 40 min: a container may report its host's load average, and CI's whole budget is 90 min.
const MAX_FILE_BUDGET_MS = 40 * 60_000;
const timeoutMs = Math.min(patience(QUIET_FILE_BUDGET_MS), MAX_FILE_BUDGET_MS);
const surfaces = new Map(files.map((f) => [f.slice(DIR.length + 1, -SUFFIX.length), 0]));

const child = spawn(
  process.execPath,
  ['--test', '--test-concurrency=2', `--test-timeout=${timeoutMs}`, '--test-reporter=tap', ...files],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const CASES = /reliability cases: ([a-z0-9-]+) (\d+)\s*$/;
let pending = '';
const scan = (line) => {
  const m = CASES.exec(line);
  if (m) surfaces.set(m[1], (surfaces.get(m[1]) ?? 0) + Number(m[2]));
};
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  const lines = (pending + chunk.toString()).split('\n');
  pending = lines.pop() ?? '';
  lines.forEach(scan);
});
const code = await new Promise((r) => child.on('close', (c, signal) => r(c ?? (signal ? 1 : 0))));
scan(pending);

const total = [...surfaces.values()].reduce((a, b) => a + b, 0);
const parts = [...surfaces].map(([s, n]) => `${s} ${n}`).join(', ');
const silent = [...surfaces].filter(([, n]) => n === 0).map(([s]) => s);
process.stdout.write(`\n# hang guard per reliability file: --test-timeout=${timeoutMs} ms\n`);
process.stdout.write(`reliability cases tried: ${total} (${parts})\n`);
if (silent.length > 0) {
  process.stderr.write(`reliability files that reported no case: ${silent.join(', ')}\n`);
  process.exit(1);
}
process.exit(code);
