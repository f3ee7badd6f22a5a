import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { patience } from './testing/patience.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..', '..');

/** Every command line of the README's `sh` blocks, without trailing comments, in order. */
export function readmeCommands(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```/gm)]
    .flatMap((m) => (m[1] ?? '').split('\n'))
    .map((line) => line.replace(/\s{2,}#.*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** The environment a user's shell would have: no npm script variables, no enclosing test runner. */
function userEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('npm_') && k !== 'NODE_TEST_CONTEXT' && k !== 'INIT_CWD'),
  );
}

function sh(command: string, cwd: string): { status: number | null; output: string; stdout: string } {
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', command], {
    cwd,
    encoding: 'utf8',
    env: userEnv(),
    timeout: patience(600_000),
  });
  return { status: r.status, output: `${r.stdout}\n${r.stderr}`.slice(-4000), stdout: r.stdout };
}

/** The README's plain-tfjs script (the `js` block that starts with `// examples/predict.mjs`). */
export function readmeScript(markdown: string): string {
  const m = /^```js\n(\/\/ examples\/predict\.mjs[\s\S]*?)^```/m.exec(markdown);
  if (!m?.[1]) throw new Error('README has no predict.mjs block');
  return m[1];
}

const average = (text: string): number => Number(/average accuracy ([\d.]+)%/.exec(text)?.[1] ?? Number.NaN);

test('the README command extractor finds the quick start, every engram command and the stream one-liner', () => {
  const lines = readmeCommands(readFileSync(join(root, 'README.md'), 'utf8'));
  assert.equal(lines[0], 'npm ci && npm start');
  assert.ok(lines.includes('npm test'));
  for (const sub of ['run', 'validate', 'schema', 'plugins', 'export', 'eval', 'report', 'compare']) {
    assert.ok(
      lines.some((l) => l.startsWith(`npx engram ${sub} `) || l === `npx engram ${sub}`),
      `npx engram ${sub}`,
    );
  }
  assert.ok(
    lines.some((l) => l.includes('| npx engram run examples/stream-stdin.pipeline.json')),
    'the stdin one-liner',
  );
});

test('npm ci links the engram command to a committed file, so it exists before anything is built', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'packages', 'cli', 'package.json'), 'utf8')) as {
    bin: Record<string, string>;
  };
  const target = pkg.bin['engram'];
  assert.ok(target !== undefined && !target.startsWith('dist/'), `bin points at ${target}`);
  const git = spawnSync('git', ['ls-files', '--error-unmatch', join('packages', 'cli', target)], {
    cwd: root,
    encoding: 'utf8',
  });
  if (git.status !== null && existsSync(join(root, '.git'))) assert.equal(git.status, 0, `${target} is tracked by git`);
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { bin?: Record<string, string> }>;
  };
  assert.deepEqual(lock.packages['packages/cli']?.bin, pkg.bin, 'package-lock.json agrees (npm ci links from it)');
  const linked = join(root, 'node_modules', '.bin', 'engram');
  assert.ok(existsSync(linked), 'node_modules/.bin/engram exists');
  assert.equal(realpathSync(linked), realpathSync(join(root, 'packages', 'cli', target)));
});

test('every README command works as written, in order, in a copy of the repository', () => {
  const lines = readmeCommands(readFileSync(join(root, 'README.md'), 'utf8'));
  // A copy of what a clone holds that the commands read or write; the installed and built packages are shared.
  const dir = mkdtempSync(join(tmpdir(), 'engram-readme-'));
  try {
    for (const f of ['package.json', 'README.md']) cpSync(join(root, f), join(dir, f));
    // The README shows examples/predict.mjs as it is shipped (the copy of examples/ below brings it).
    assert.equal(
      readmeScript(readFileSync(join(root, 'README.md'), 'utf8')),
      readFileSync(join(root, 'examples', 'predict.mjs'), 'utf8'),
      'the README shows examples/predict.mjs as shipped',
    );
    const outputs = new Map<string, string>();
    for (const d of ['examples', 'schemas']) cpSync(join(root, d), join(dir, d), { recursive: true });
    for (const d of ['node_modules', 'packages']) symlinkSync(join(root, d), join(dir, d), 'dir');
    const scripts = (
      JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    for (const line of lines) {
      if (line === 'npm test') continue; // this test runs inside it
      if (line === 'npm ci && npm start') {
        // `npm ci` ran before this suite (the test above checks what it links). `npm start` builds, which
        // must be a no-op now, in the real checkout (nx does not follow a symlinked packages/), then runs
        // the rest of its script in the copy.
        const [build, ...rest] = (scripts['start'] ?? '').split(' && ');
        assert.equal(build, 'npm run build');
        // Other suites run beside this one and import from dist/: the build must leave current outputs
        // alone (nx's cache restore rewrote every file, and a concurrent import failed in CI).
        const probe = join(root, 'packages', 'datasets', 'dist', 'index.js');
        const before = statSync(probe).ino;
        const built = sh(build, root);
        assert.equal(built.status, 0, built.output);
        assert.equal(statSync(probe).ino, before, 'npm run build rewrote an up-to-date dist/ file');
        const started = sh(rest.join(' && '), dir);
        assert.equal(started.status, 0, `npm start: ${started.output}`);
        continue;
      }
      const r = sh(line, dir);
      assert.equal(r.status, 0, `${line}\n${r.output}`);
      outputs.set(line, r.stdout);
    }
    // The plain-tfjs script scores the export as engram eval scores the checkpoint.
    const evaluated = average([...outputs].find(([l]) => l.startsWith('npx engram eval '))?.[1] ?? '');
    const predicted = average([...outputs].find(([l]) => l.startsWith('node examples/predict.mjs'))?.[1] ?? '');
    assert.ok(
      Number.isFinite(evaluated) && Math.abs(evaluated - predicted) <= 0.3,
      `engram eval ${evaluated}%, predict.mjs ${predicted}%`,
    );
    for (const f of [
      'runs/quickstart/summary.json',
      'runs/q/summary.json',
      'runs/q/report.html',
      'model/model.json',
      'model/engram.json',
      'model/test.jsonl',
      'runs/compare.html',
      'runs/stream-stdin/summary.json',
    ]) {
      assert.ok(existsSync(join(dir, f)), f);
    }
    assert.equal(
      readFileSync(join(dir, 'schemas', 'pipeline.schema.json'), 'utf8'),
      readFileSync(join(root, 'schemas', 'pipeline.schema.json'), 'utf8'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
