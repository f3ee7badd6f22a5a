import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { finalDigest, MAIN } from '../commands/e2e-harness.js';
import { assertClean, engram } from './cli-runner.js';
import { basePipeline } from './corpus.js';
import { reportCases } from './cases.js';

/**
 * A local plugin with one stage, `id-audit`, that breaks the stage contract in the way its `mode`
 * option says. Operators are written without importing rxjs (a local plugin resolves only
 * `@engram/core`): a new Observable is made from the source's own constructor.
 */
const PLUGIN = `
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ContainerModule, TOKENS, Type, eachItem } from '@engram/core';
const op = (f) => (source) => new source.constructor((sub) => source.subscribe({
  next: (item) => f(item, sub), error: (e) => sub.error(e), complete: () => sub.complete() }));
class Audit {
  name = 'id-audit';
  batches = 0;
  constructor(o) { this.mode = o.mode; if (o.mode === 'create-throws') throw new Error('cannot open the audit log'); }
  operator(run) {
    const m = this.mode;
    if (m === 'operator-null') return null;
    if (m === 'operator-throws') throw { code: 42 };
    if (m === 'returns-non-observable') return () => 7;
    if (m === 'never-settles') return eachItem((item) => (item.kind === 'batch' ? new Promise(() => {}) : undefined));
    if (m === 'drops') return op((item, sub) => item.kind !== 'batch' && sub.next(item));
    if (m === 'non-item') return op((item, sub) => sub.next(item.kind === 'batch' ? { n: 42 } : item));
    if (m === 'twice') return op((item, sub) => { sub.next(item); if (item.kind === 'batch') sub.next(item); });
    if (m === 'kind-changed') return op((item, sub) => sub.next(item.kind === 'epoch-end' ? { ...item, kind: 'run-end' } : item));
    if (m === 'completes-early') return (source) => new source.constructor((sub) => source.subscribe({
      next: (item) => (item.kind === 'batch' ? sub.complete() : sub.next(item)) }));
    if (m === 'shorten-x') return eachItem((item) => { if (item.kind === 'batch') item.batch = { ...item.batch, x: item.batch.x.subarray(0, item.batch.x.length - 8) }; });
    if (m === 'reshape-x') return eachItem((item) => { if (item.kind === 'batch') item.batch = { ...item.batch, sampleShape: [4, 2] }; });
    if (m === 'null-batch') return eachItem((item) => { if (item.kind === 'batch') item.batch = null; });
    if (m === 'rejects-non-error') return eachItem((item) => (item.kind === 'batch' ? Promise.reject({ why: 'nope' }) : undefined));
    if (m === 'throws-string') return eachItem((item) => { if (item.kind === 'batch') throw 'plain string'; });
    if (m === 'fail-late') return eachItem((item) => {
      if (item.kind === 'batch' && ++this.batches > 2 && !existsSync(join(run.outputs.dir, '..', 'healed'))) throw new Error('audit store full');
    });
    if (m === 'copy') return op((item, sub) => sub.next({ ...item }));
    return eachItem(() => {});
  }
  state() {
    const m = this.mode;
    if (m === 'bigint-state') return { meta: { n: 10n } };
    if (m === 'circular-state') { const a = {}; a.self = a; return { meta: a }; }
    if (m === 'nan-state') return { meta: { loss: NaN } };
    if (m === 'array-not-typed') return { arrays: { w: { dtype: 'float32', shape: [3], data: [1, 2, 3] } } };
    if (m === 'array-wrong-length') return { arrays: { w: { dtype: 'int32', shape: [4], data: new Int32Array(3) } } };
    if (m === 'array-bad-dtype') return { arrays: { w: { dtype: 'float64', shape: [1], data: new Float64Array(1) } } };
    if (m === 'state-null') return null;
    if (m === 'state-throws') throw new RangeError('state unavailable');
    return { meta: { batches: this.batches } };
  }
  restore(s) { this.batches = s.meta.batches; }
}
export default { name: 'audit', apiVersion: 1, module: new ContainerModule(({ bind }) => bind(TOKENS.Component).toConstantValue({
  role: 'stage', kind: 'id-audit', description: 'Breaks the stage contract on purpose.',
  options: Type.Object({ mode: Type.String() }, { additionalProperties: false }),
  create: (o) => new Audit(o) })) };
`;

/** Each mode, the stage's place, and what the one line must say after `stage "id-audit" (/stages/0): `. */
const BROKEN: ReadonlyArray<{ mode: string; before?: string; says: RegExp }> = [
  { mode: 'create-throws', says: /creation failed: cannot open the audit log/ },
  { mode: 'operator-null', says: /returned null, not an RxJS operator/ },
  { mode: 'operator-throws', says: /non-Error value: \{"code":42\}/ },
  { mode: 'returns-non-observable', says: /not an Observable/ },
  { mode: 'never-settles', says: /never passed on item \d+ \(batch\).*stalled/ },
  { mode: 'drops', says: /never passed on item \d+ \(batch\)/ },
  { mode: 'non-item', says: /emitted an object, which is not a run item/ },
  { mode: 'twice', before: 'train', says: /emitted item \d+ \(batch\) twice/ },
  { mode: 'kind-changed', says: /turned item \d+ from "epoch-end" into "run-end"/ },
  { mode: 'completes-early', says: /completed without passing on item \d+ \(batch\)/ },
  { mode: 'shorten-x', before: 'train', says: /120 x values for 16 samples of shape \[8\]/ },
  { mode: 'reshape-x', before: 'train', says: /changed the sample shape from \[8\] to \[4,2\]/ },
  { mode: 'null-batch', before: 'train', says: /its batch is null/ },
  { mode: 'rejects-non-error', says: /non-Error value: \{"why":"nope"\}/ },
  { mode: 'throws-string', says: /: plain string$/ },
  { mode: 'bigint-state', says: /meta\/n is a BigInt/ },
  { mode: 'circular-state', says: /meta\/self is circular/ },
  { mode: 'nan-state', says: /meta\/loss is NaN/ },
  { mode: 'array-not-typed', says: /arrays\.w\.data must be a Float32Array/ },
  { mode: 'array-wrong-length', says: /arrays\.w\.data has 3 values for shape \[4\]/ },
  { mode: 'array-bad-dtype', says: /arrays\.w\.dtype must be "float32" or "int32"/ },
  { mode: 'state-null', says: /state\(\) returned null/ },
  { mode: 'state-throws', says: /state\(\) failed: state unavailable/ },
];

/**
 * A work folder inside the workspace (removed by each test): a local plugin resolves `@engram/core`
 * from its own folder upwards, which a folder under the system's tmp cannot.
 */
function setUp(): string {
  const dir = mkdtempSync(join(dirname(MAIN), '..', '.stage-plugins-'));
  mkdirSync(join(dir, 'audit'));
  writeFileSync(join(dir, 'audit', 'index.js'), PLUGIN);
  writeFileSync(join(dir, 'audit', 'package.json'), '{ "type": "module" }');
  return dir;
}

function pipeline(dir: string, name: string, mode: string, before?: string): string {
  const doc = basePipeline();
  doc['plugins'] = [...(doc['plugins'] as string[]), './audit/index.js'];
  doc['stages'] = [{ kind: 'id-audit', mode, ...(before ? { before } : {}) }];
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

const summaryOf = (out: string): { status: string; error: string | null } =>
  JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { status: string; error: string | null };

test('a plugin stage that breaks its contract in any of 23 ways ends the run failed: exit 1, summary.json failed, one line naming the stage and its pointer', async () => {
  const dir = setUp();
  try {
    let tried = 0;
    for (let i = 0; i < BROKEN.length; i += 2) {
      await Promise.all(
        BROKEN.slice(i, i + 2).map(async ({ mode, before, says }) => {
          const out = join(dir, `out-${mode}`);
          const r = await engram(['run', pipeline(dir, mode, mode, before), '--out', out, '--allow-local-plugins'], {
            cwd: dir,
          });
          assert.equal(r.code, 1, `${mode}: exit ${r.code}: ${r.stderr}`);
          assertClean(r.stderr, mode);
          const line = r.stderr.split('\n').find((l) => l.startsWith('error: ')) ?? '';
          assert.match(line, /^error: stage "id-audit" \(\/stages\/0\): /, `${mode}: ${r.stderr}`);
          assert.match(line, says, mode);
          const summary = summaryOf(out);
          assert.equal(summary.status, 'failed', mode);
          assert.equal(`error: ${summary.error ?? ''}`, line, mode);
          tried++;
        }),
      );
    }
    reportCases('stage-plugins', tried);
    console.log(`# stage plugins: ${tried} broken stages, each failed with a named line and summary.json`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a stage that passes every item on, or a copy keeping its seq, leaves the run completed and the weights those of a run without it', async () => {
  const dir = setUp();
  try {
    const plain = basePipeline();
    writeFileSync(join(dir, 'plain.json'), JSON.stringify(plain));
    const [a, b, c] = await Promise.all([
      engram(['run', 'plain.json', '--out', 'o-plain'], { cwd: dir }),
      engram(['run', pipeline(dir, 'copy', 'copy', 'train'), '--out', 'o-copy', '--allow-local-plugins'], {
        cwd: dir,
      }),
      engram(['run', pipeline(dir, 'pass', 'pass'), '--out', 'o-pass', '--allow-local-plugins'], {
        cwd: dir,
      }),
    ]);
    for (const r of [a, b, c]) assert.equal(r.code, 0, r.stderr);
    assert.equal(finalDigest(join(dir, 'o-copy')).weights, finalDigest(join(dir, 'o-plain')).weights);
    assert.equal(finalDigest(join(dir, 'o-pass')).weights, finalDigest(join(dir, 'o-plain')).weights);
    reportCases('stage-plugins', 2);
    console.log('# stage plugins: 2 well-behaved stages completed with the plain run’s weights');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a run a plugin stage failed midway keeps its checkpoints: --resume, once the cause is gone, ends bit-identical to a run that never failed', async () => {
  const dir = setUp();
  try {
    const file = pipeline(dir, 'late', 'fail-late');
    const failed = await engram(['run', file, '--out', 'runs/late', '--allow-local-plugins'], {
      cwd: dir,
    });
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(failed.stderr, /stage "id-audit" \(\/stages\/0\): audit store full/);
    assert.equal(summaryOf(join(dir, 'runs', 'late')).status, 'failed');
    assert.ok(existsSync(join(dir, 'runs', 'late', 'checkpoints')));
    writeFileSync(join(dir, 'runs', 'healed'), '');
    const resumed = await engram(['run', file, '--out', 'runs/late', '--resume', '--allow-local-plugins'], {
      cwd: dir,
    });
    assert.equal(resumed.code, 0, resumed.stderr);
    const whole = await engram(['run', file, '--out', 'runs/whole', '--allow-local-plugins'], {
      cwd: dir,
    });
    assert.equal(whole.code, 0, whole.stderr);
    assert.equal(summaryOf(join(dir, 'runs', 'late')).status, 'completed');
    assert.deepEqual(finalDigest(join(dir, 'runs', 'late')), finalDigest(join(dir, 'runs', 'whole')));
    reportCases('stage-plugins', 1);
    console.log('# stage plugins: 1 failed run resumed bit-identical');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
