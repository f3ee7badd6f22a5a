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
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? patience(120_000));
    child.on('exit', (code) => {
      clearTimeout(timer);
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
