import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MODULE = fileURLToPath(new URL('./exit-when-done.js', import.meta.url));

/** Runs a module script that imports exitWhenDone, sets exitCode 3, then does `body`. */
function runScript(body: string): { status: number | null; stderr: string; ms: number } {
  const script = `import { exitWhenDone } from ${JSON.stringify(MODULE)};\nprocess.exitCode = 3;\n${body}`;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr, ms: Date.now() - t0 };
}

test('a finished command whose process holds a leaked interval exits with its code and names what was open', () => {
  const r = runScript('setInterval(() => {}, 1000);\nexitWhenDone(300);');
  assert.equal(r.status, 3);
  assert.match(r.stderr, /^engram: still busy 0 s after the command finished \(open: Timeout\); exiting\n$/);
});

test('a finished command with nothing left open exits at once, silently, without waiting for the grace period', () => {
  const r = runScript('exitWhenDone(600_000);');
  assert.equal(r.status, 3);
  assert.equal(r.stderr, '');
  // Had the grace timer held the process, it would have lived for ten minutes.
  assert.ok(r.ms < 300_000, `took ${r.ms} ms`);
});
