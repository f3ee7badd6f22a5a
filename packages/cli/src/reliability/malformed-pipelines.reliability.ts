import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PipelineError } from '@engram/core';
import { loadPipelineFile } from '../cli-context.js';
import { assertClean, engram } from './cli-runner.js';
import { basePipeline, malformedCorpus } from './corpus.js';
import { reportCases } from './cases.js';

const corpus = malformedCorpus();
const dir = mkdtempSync(join(tmpdir(), 'engram-corpus-'));
mkdirSync(join(dir, 'pipelines'));
writeFileSync(
  join(dir, 'pipelines', 'local-plugin.js'),
  "import { writeFileSync } from 'node:fs'; writeFileSync('/tmp/engram-pwned', 'x'); export default {};\n",
);
const files = corpus.map((c, i) => {
  const file = join(dir, 'pipelines', `case-${String(i).padStart(3, '0')}.json`);
  writeFileSync(file, c.text);
  return file;
});

test(`every one of the ${corpus.length} malformed pipelines is refused in-process with pointed one-line problems`, async () => {
  assert.ok(corpus.length >= 200, `${corpus.length} cases`);
  rmSync('/tmp/engram-pwned', { force: true });
  let refused = 0;
  for (const [i, c] of corpus.entries()) {
    try {
      await loadPipelineFile(files[i] as string);
      assert.fail(`${c.name}: accepted`);
    } catch (e) {
      assert.ok(e instanceof PipelineError, `${c.name}: ${String(e)}`);
      assert.ok(e.problems.length >= 1);
      for (const p of e.problems) {
        assert.ok(p.path === '' || p.path.startsWith('/'), `${c.name}: pointer ${p.path}`);
        assert.doesNotMatch(p.message, /\n/, `${c.name}: one line`);
      }
      if (c.pointer !== undefined)
        assert.ok(
          e.problems.some((p) => p.path === c.pointer || p.path.startsWith(`${c.pointer}/`)),
          `${c.name}: names ${c.pointer}, got ${e.problems.map((p) => p.path).join(', ')}`,
        );
      refused++;
    }
  }
  assert.equal(existsSync('/tmp/engram-pwned'), false, 'no pipeline ran code');
  console.log(`# malformed pipelines refused in-process: ${refused}/${corpus.length}`);
  reportCases('malformed-pipelines', refused);
});

test('a sample of the malformed pipelines run through the CLI exits 2 with no stack trace', async () => {
  const sample = files.filter((_, i) => i % 20 === 0);
  let ok = 0;
  for (let i = 0; i < sample.length; i += 3) {
    const pair = sample.slice(i, i + 3);
    const results = await Promise.all(pair.map((f) => engram(['validate', f])));
    results.forEach((r, k) => {
      assert.equal(r.code, 2, `${pair[k]}: ${r.stderr}`);
      assertClean(r.stderr, pair[k] as string);
      ok++;
    });
  }
  console.log(`# malformed pipelines through engram validate: ${ok} exit 2`);
  reportCases('malformed-pipelines', ok);
});

test('runtime failures exit 1 (or 2 for what the data reveals) with one line and no stack', async () => {
  const work = mkdtempSync(join(tmpdir(), 'engram-runtime-'));
  const write = (name: string, mutate: (d: Record<string, unknown>) => void): string => {
    const d = basePipeline();
    mutate(d);
    const f = join(work, name);
    writeFileSync(f, JSON.stringify(d));
    return f;
  };
  writeFileSync(join(work, 'a-file'), 'x');
  writeFileSync(join(dirname(work), `engram-secret-${process.pid}`), 'root:$6$secrethash:1:0:::\n');
  const cases: Array<{ name: string; args: string[]; code: number; match?: RegExp; not?: RegExp }> = [
    {
      name: 'output under /proc',
      args: ['run', write('proc.json', () => undefined), '--out', '/proc/engram-x'],
      code: 1,
      match: /^error: cannot create folder \/proc\/engram-x/m,
    },
    {
      name: 'checkpoint dir through a file',
      args: ['run', write('ckfile.json', (d) => (d['checkpoint'] = { dir: 'a-file/ck' })), '--out', join(work, 'o1')],
      code: 1,
      match: /cannot create folder .*ENOTDIR/,
    },
    {
      name: 'output.dir under /proc',
      args: ['run', write('outproc.json', (d) => (d['output'] = { dir: '/proc/engram-y' }))],
      code: 1,
      match: /cannot create folder/,
    },
    {
      name: 'adam lr 1e6 diverges',
      args: [
        'run',
        write('adam.json', (d) => (d['optimizer'] = { type: 'adam', learningRate: 1e6 })),
        '--out',
        join(work, 'o2'),
      ],
      code: 1,
      match: /^error: (loss is .* training diverged|optimizer state .* holds)/m,
    },
    {
      name: 'csv of /dev/zero',
      args: [
        'run',
        write(
          'zero.json',
          (d) =>
            (d['data'] = { kind: 'csv', path: '/dev/zero', scenario: { type: 'class-incremental', experiences: 2 } }),
        ),
        '--out',
        join(work, 'o3'),
      ],
      // found by the data check before anything is built (engram validate finds it too)
      code: 2,
      match: /\/data\/path: \/dev\/zero is not a file/,
    },
    {
      name: 'csv outside the folder',
      args: [
        'run',
        write(
          'secret.json',
          (d) =>
            (d['data'] = {
              kind: 'csv',
              path: `../engram-secret-${process.pid}`,
              header: false,
              delimiter: ':',
              labelColumn: 1,
              numClasses: 2,
              badRows: 'fail',
              scenario: { type: 'class-incremental', experiences: 2 },
            }),
        ),
        '--out',
        join(work, 'o4'),
      ],
      code: 1,
      not: /secrethash|root:/,
    },
    {
      name: 'a model over the parameter limit',
      args: [
        'run',
        write('huge.json', (d) => (d['model'] = { layers: [{ type: 'dense', units: 20_000_000 }] })),
        '--out',
        join(work, 'o5'),
      ],
      code: 2,
      match: /\/model\/layers\/0: the model would have/,
    },
    { name: 'pipeline /dev/zero', args: ['validate', '/dev/zero'], code: 2, match: /not a regular file/ },
    { name: 'pipeline is a folder', args: ['validate', work], code: 2, match: /is a directory/ },
    // Not a failure since --resume without a checkpoint starts a new run (a supervisor may always pass it): one warning line, exit 0.
    {
      name: 'resume with nothing',
      args: ['run', write('nothing.json', () => undefined), '--out', join(work, 'o6'), '--resume'],
      code: 0,
      match: /^warning: nothing to resume: no checkpoint in .*; starting a new run$/m,
    },
  ];
  for (let i = 0; i < cases.length; i += 2) {
    const pair = cases.slice(i, i + 2);
    const results = await Promise.all(pair.map((c) => engram(c.args, { cwd: work })));
    pair.forEach((c, k) => {
      const r = results[k] as Awaited<ReturnType<typeof engram>>;
      assert.equal(r.code, c.code, `${c.name}: ${r.stderr}`);
      assertClean(r.stderr, c.name);
      if (c.match) assert.match(r.stderr, c.match, c.name);
      if (c.not) assert.doesNotMatch(r.stderr + r.stdout, c.not, c.name);
    });
  }
  rmSync(join(dirname(work), `engram-secret-${process.pid}`), { force: true });
  reportCases('malformed-pipelines', cases.length);
  console.log(
    `# runtime failures: ${cases.length} cases, each exit ${[...new Set(cases.map((c) => c.code))].join('/')} with one clean line`,
  );
});
