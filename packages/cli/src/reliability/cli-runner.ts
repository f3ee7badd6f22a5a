import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { patience } from '../testing/patience.js';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'main.js');

/** Runs the CLI; resolves with its exit code and output. */
export function engram(
  args: string[],
  options: { cwd?: string; input?: string; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [main, ...args], {
      cwd: options.cwd ?? process.cwd(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const guardMs = options.timeoutMs ?? patience(120_000);
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, guardMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      // A hung child's output so far, and that it hung, land in the failing assertion's message.
      if (hung)
        stderr += `\n[engram ${args.join(' ')}: killed by the test after ${Math.round(guardMs / 1000)} s, hung]\n`;
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** The CLI's error output without the tfjs banner: no stack frame, no JavaScript error class. */
export function assertClean(stderr: string, what: string): void {
  const lines = stderr
    .split('\n')
    .filter((l) => l.trim() !== '' && !/^=+$|^Hi, looks like you are running TensorFlow\.js/.test(l));
  assert.ok(lines.length >= 1, `${what}: says something`);
  for (const l of lines) {
    assert.doesNotMatch(
      l,
      /^\s+at .*[:(]\d+|TypeError|RangeError|SyntaxError|ReferenceError|Maximum call stack/,
      `${what}: ${l}`,
    );
    assert.ok(l.length < 2000, `${what}: a line of ${l.length} characters`);
  }
}
