#!/usr/bin/env node
// Runs the compiled tests of every package with node:test, split in two suites:
//
//   node scripts/run-tests.mjs unit   # npm test: every *.test.js except the end-to-end ones
//   node scripts/run-tests.mjs e2e    # npm run test:e2e: *.e2e.test.js and *.browser.test.js — whole
//                                     # processes killed and resumed, real servers, a browser (minutes each)
//   node scripts/run-tests.mjs all
//
// Node 20's test runner takes no glob, so the files are listed here. Two files run at a time, as before.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const suite = process.argv[2] ?? 'unit';
if (!['unit', 'e2e', 'all'].includes(suite)) {
  process.stderr.write(`usage: node scripts/run-tests.mjs unit|e2e|all (got "${suite}")\n`);
  process.exit(2);
}
const E2E = /\.(e2e|browser)\.test\.js$/;

function testFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return testFiles(path);
    return name.endsWith('.test.js') ? [path] : [];
  });
}

const packages = join(ROOT, 'packages');
const all = readdirSync(packages)
  .map((p) => join(packages, p, 'dist'))
  .filter((d) => {
    try {
      return statSync(d).isDirectory();
    } catch {
      return false;
    }
  })
  .flatMap(testFiles)
  .sort();
const files = all.filter((f) => suite === 'all' || (suite === 'e2e') === E2E.test(f));
if (files.length === 0) {
  process.stderr.write(`no compiled ${suite} tests under packages/*/dist: run npm run build first\n`);
  process.exit(1);
}
// A backstop against a hang, per test file (Node 20 applies --test-timeout to each file as a whole):
// far above what any file needs at load 10 (the longest e2e file, the README walk-through, takes about
// 5 min quiet), so only a file that hangs reaches it — and fails by name instead of eating CI's budget.
const FILE_BUDGET_MIN = { unit: 20, e2e: 40, all: 40 }[suite];
const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', `--test-timeout=${FILE_BUDGET_MIN * 60_000}`, ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
