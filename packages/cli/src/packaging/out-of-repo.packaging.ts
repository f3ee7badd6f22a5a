// The out-of-repository install test (`npm run test:packaging`, run by .ci/run; not part of `npm test`
// because it installs from the npm registry and takes minutes). It runs, as written, the README's "Use
// Engram in your own project" and the "from an empty folder" steps of docs/writing-a-strategy.md and
// docs/writing-a-stage.md in a scratch HOME, then runs a pipeline that uses both third-party packages
// in that project and, unchanged, in the repository, and compares them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { patience } from '../testing/patience.js';
import { docScript, section } from './doc-script.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const read = (f: string): string => readFileSync(join(root, f), 'utf8');

/**
 * A user's shell: no npm script or test-runner variables, HOME a scratch folder (the docs write to
 * `~/…`), npm's cache and user config those of the real home (the cache is warm: `--prefer-offline`).
 */
function userEnv(home: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^npm_/i.test(k) && k !== 'NODE_TEST_CONTEXT' && k !== 'INIT_CWD' && k !== 'NODE_OPTIONS',
    ),
  );
  return {
    ...env,
    HOME: home,
    ENGRAM: root,
    npm_config_cache: process.env['npm_config_cache'] ?? join(homedir(), '.npm'),
    npm_config_userconfig: join(homedir(), '.npmrc'),
    npm_config_prefer_offline: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
}

interface Ran {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function bash(script: string, cwd: string, env: NodeJS.ProcessEnv, quietMs: number): Ran {
  const r = spawnSync('bash', ['-euo', 'pipefail', '-c', script], {
    cwd,
    env,
    encoding: 'utf8',
    timeout: patience(quietMs),
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tail = (r: Ran): string => `${r.stdout.slice(-3000)}\n--- stderr\n${r.stderr.slice(-3000)}`;

/** Every installed copy of `name` under `dir`'s node_modules (nested ones included; links not followed). */
function copies(dir: string, name: string): string[] {
  const found: string[] = [];
  const walk = (nm: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(nm);
    } catch {
      return;
    }
    for (const e of entries) {
      const pkgs = e.startsWith('@') ? readdirSync(join(nm, e)).map((s) => `${e}/${s}`) : [e];
      for (const p of pkgs) {
        const at = join(nm, p);
        if (p === name) found.push(at);
        walk(join(at, 'node_modules'));
      }
    }
  };
  walk(join(dir, 'node_modules'));
  return found;
}

/** The pipeline that uses both third-party packages by name (the comparison runs it in both places). */
const bothPipeline = {
  name: 'third-party-both',
  seed: 3,
  backend: 'wasm',
  plugins: ['@engram/datasets', 'engram-strategy-l2-anchor', 'engram-stage-batch-counter'],
  data: {
    kind: 'mnist',
    flatten: true,
    scenario: { type: 'class-incremental', experiences: 5 },
    testFraction: 0.2,
  },
  model: { layers: [{ type: 'dense', units: 32, activation: 'relu' }] },
  optimizer: { type: 'adam', learningRate: 0.001 },
  strategy: { kind: 'l2-anchor', lambda: 0.5 },
  stages: [{ kind: 'batch-counter', after: 'train', key: 'counted' }],
  training: { epochs: 1, batchSize: 64 },
  checkpoint: { enabled: false },
};

interface Summary {
  readonly status: string;
  readonly accuracyMatrix: number[][];
  readonly outputs?: { counted?: { batches?: number } };
}

test('the packed packages install outside the repository and run third-party plugin packages as in the repository', () => {
  const home = mkdtempSync(join(tmpdir(), 'engram-packaging-'));
  const inRepo = mkdtempSync(join(root, 'packages', 'cli', '.packaging-'));
  const env = userEnv(home);
  try {
    // 1. README "Use Engram in your own project", from the clone, as written.
    const readme = bash(docScript(section(read('README.md'), 'Use Engram in your own project')), root, env, 900_000);
    assert.equal(readme.status, 0, tail(readme));
    const project = join(home, 'my-engram-project');
    assert.match(readme.stdout, /ACC \d+\.\d%/, 'the quickstart ran in the new project');
    assert.doesNotMatch(readme.stdout + readme.stderr, /already registered/);
    assert.equal(copies(project, '@tensorflow/tfjs-core').length, 1, 'one tfjs-core in the README project');

    // 2. docs/writing-a-strategy.md §0 and docs/writing-a-stage.md "From an empty folder", as written.
    const strategy = bash(
      docScript(section(read('docs/writing-a-strategy.md'), '0. From an empty folder')),
      root,
      env,
      900_000,
    );
    assert.equal(strategy.status, 0, tail(strategy));
    assert.match(strategy.stdout, /l2-anchor/);
    const stage = bash(docScript(section(read('docs/writing-a-stage.md'), 'From an empty folder')), root, env, 900_000);
    assert.equal(stage.status, 0, tail(stage));
    assert.match(stage.stdout, /"counted": *\{ *"batches": *\d+/);
    const plugins = join(home, 'cl-plugins');

    // 3. One pipeline with both third-party packages, in that project.
    writeFileSync(join(plugins, 'both.pipeline.json'), JSON.stringify(bothPipeline, null, 2));
    const runEnv = { ...env, ENGRAM_NATIVE: '0' }; // the repository has the native kernels built; compare plain wasm
    const out = bash('npx engram run both.pipeline.json --out runs/both', plugins, runEnv, 600_000);
    assert.equal(out.status, 0, tail(out));
    assert.equal(out.stderr.trim(), '', 'engram run wrote nothing to stderr (no warnings, no "already registered")');
    const ls = bash('npm ls --all --parseable @tensorflow/tfjs-core @engram/core', plugins, env, 300_000);
    assert.equal(ls.status, 0, `npm ls found no problem (missing or invalid peers)\n${tail(ls)}`);
    for (const name of ['@tensorflow/tfjs-core', '@tensorflow/tfjs', '@engram/core', 'rxjs'])
      assert.equal(
        copies(plugins, name).length,
        1,
        `exactly one ${name} in the project: ${copies(plugins, name).join(', ')}`,
      );
    const outside = JSON.parse(readFileSync(join(plugins, 'runs', 'both', 'summary.json'), 'utf8')) as Summary;

    // 4. The same pipeline and plugin packages in the repository (its workspace @engram/core).
    for (const p of ['engram-strategy-l2-anchor', 'engram-stage-batch-counter']) {
      mkdirSync(join(inRepo, 'node_modules', p), { recursive: true });
      for (const f of ['package.json', 'index.js']) cpSync(join(plugins, p, f), join(inRepo, 'node_modules', p, f));
    }
    writeFileSync(join(inRepo, 'both.pipeline.json'), JSON.stringify(bothPipeline, null, 2));
    const cli = join(root, 'packages', 'cli', 'dist', 'main.js');
    const here = bash(`node '${cli}' run both.pipeline.json --out runs/both`, inRepo, runEnv, 600_000);
    assert.equal(here.status, 0, tail(here));
    const inside = JSON.parse(readFileSync(join(inRepo, 'runs', 'both', 'summary.json'), 'utf8')) as Summary;

    assert.equal(outside.status, 'completed');
    assert.equal(inside.status, 'completed');
    assert.equal(outside.accuracyMatrix.length, 5);
    assert.deepEqual(outside.accuracyMatrix, inside.accuracyMatrix, 'the same accuracy matrix outside and inside');
    const batches = outside.outputs?.counted?.batches ?? 0;
    assert.ok(batches > 0, `the stage counted ${batches} batches`);
    assert.equal(batches, inside.outputs?.counted?.batches);
  } finally {
    rmSync(home, { recursive: true, force: true });
    rmSync(inRepo, { recursive: true, force: true });
  }
});
