import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'main.js');

/** A tiny split-MNIST pipeline with a checkpoint every 2 batches (optionally a 2-unit head that grows). */
function pipeline(strategy: unknown, headUnits?: number): unknown {
  return {
    name: 'tiny', seed: 7, backend: 'cpu', plugins: ['@engram/datasets', '@engram/strategies'],
    data: { kind: 'mnist', scenario: { type: 'class-incremental', experiences: 3 }, testFraction: 0.2, limitPerClass: 30 },
    model: { layers: [{ type: 'flatten' }, { type: 'dense', units: 16, activation: 'relu' }, { type: 'dropout', rate: 0.2 }], ...(headUnits ? { head: { units: headUnits } } : {}) },
    adjust: [{ kind: 'grow-head' }],
    optimizer: { type: 'adam', learningRate: 0.01 },
    strategy,
    training: { epochs: 2, batchSize: 8 },
    evaluation: { on: 'all', initial: true },
    checkpoint: { everyBatches: 2, keep: 3 },
  };
}

interface Exit { code: number | null; signal: NodeJS.Signals | null; stderr: string; firstCheckpointStep: number | undefined }

/** Runs `engram run`; when `killWhen` matches an emitted event line, sends `signal`. */
function run(
  file: string, out: string, extra: string[], killWhen?: (line: string) => boolean, signal: NodeJS.Signals = 'SIGKILL',
  env: NodeJS.ProcessEnv = process.env, onSpawn?: (child: ChildProcess) => void,
): Promise<Exit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, 'run', file, '--out', out, '--json', ...extra], { stdio: ['ignore', 'pipe', 'pipe'], env });
    onSpawn?.(child);
    let buffer = '';
    let stderr = '';
    let sent = false;
    let firstCheckpointStep: number | undefined;
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        if (firstCheckpointStep === undefined && line.startsWith('{"type":"checkpoint"')) firstCheckpointStep = (JSON.parse(line) as { step: number }).step;
        if (!sent && killWhen?.(line)) { sent = true; child.kill(signal); }
      }
    });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('exit', (code, sig) => resolve({ code, signal: sig, stderr, firstCheckpointStep }));
  });
}

/** summary.json without wall-clock, throughput and memory figures. */
function deterministicSummary(dir: string): unknown {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).filter(([k]) => !/wallSeconds|samplesPerSecond|rss|Rss|^backend$/.test(k)).map(([k, x]) => [k, strip(x)]));
    }
    return v;
  };
  return strip(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')));
}

/** sha256 of the newest checkpoint's model weights and state blob (optimizer slots, strategy state). */
function finalDigest(dir: string): { step: string; weights: string; state: string } {
  const root = join(dir, 'checkpoints');
  const newest = readdirSync(root).filter((n) => n.startsWith('step-')).sort().pop() ?? '';
  const h = (p: string): string => createHash('sha256').update(readFileSync(join(root, newest, p))).digest('hex');
  return { step: newest, weights: h('model/weights.bin'), state: h('state.bin') };
}

const checkpointAt = (step: number) => (line: string): boolean => line.startsWith('{"type":"checkpoint"') && line.includes(`"step":${step},`);
const eventIs = (type: string, field: string) => (line: string): boolean => line.startsWith(`{"type":"${type}"`) && line.includes(field);

for (const [label, strategy, headUnits] of [
  ['naive', { kind: 'naive' }, undefined],
  ['naive, head grown by grow-head', { kind: 'naive' }, 2],
  ['replay', { kind: 'replay', bufferSize: 40 }, undefined],
  ['ewc', { kind: 'ewc', lambda: 100 }, undefined],
] as const) {
  describe(`resume after SIGKILL (${label})`, { timeout: 300_000 }, () => {
    it('ends with the same summary metrics and bit-identical weights and optimizer state as an uninterrupted run', async () => {
      const work = mkdtempSync(join(tmpdir(), 'engram-resume-'));
      const file = join(work, 'p.pipeline.json');
      writeFileSync(file, JSON.stringify(pipeline(strategy, headUnits)));
      const reference = await run(file, join(work, 'ref'), []);
      assert.equal(reference.code, 0, reference.stderr);
      const out = join(work, 'killed');
      // inside experience 0, right after a checkpoint; at experience 1's end (evaluation running); mid-epoch of experience 2
      const kills = [checkpointAt(6), eventIs('experience-end', '"experience":1,'), eventIs('batch-end', '"experience":2,')];
      let first = true;
      for (const when of kills) {
        const r = await run(file, out, first ? [] : ['--resume'], when);
        assert.equal(r.signal, 'SIGKILL', `run was not killed: ${r.stderr}`);
        // a resumed run continues: its first checkpoint is later than a fresh run's (step 2)
        if (!first) assert.ok((r.firstCheckpointStep ?? Infinity) > 2, `resumed run started over (first checkpoint at step ${r.firstCheckpointStep})`);
        first = false;
      }
      const last = await run(file, out, ['--resume']);
      assert.equal(last.code, 0, last.stderr);
      assert.ok((last.firstCheckpointStep ?? Infinity) > 2);
      assert.deepEqual(deterministicSummary(out), deterministicSummary(join(work, 'ref')));
      assert.deepEqual(finalDigest(out), finalDigest(join(work, 'ref')));
    });
  });
}

describe('resume after SIGKILL during a checkpoint write', { timeout: 300_000 }, () => {
  it('keeps the previous checkpoint intact, leaves no partial one, and still ends bit-identical', async () => {
    const work = mkdtempSync(join(tmpdir(), 'engram-resume-write-'));
    const file = join(work, 'p.pipeline.json');
    writeFileSync(file, JSON.stringify(pipeline({ kind: 'replay', bufferSize: 40 })));
    const reference = await run(file, join(work, 'ref'), []);
    assert.equal(reference.code, 0, reference.stderr);
    const out = join(work, 'killed');
    const root = join(out, 'checkpoints');
    // The write of step 6 pauses between its data files and its manifest; kill it there.
    let child: ChildProcess | undefined;
    const partial = run(file, out, [], undefined, 'SIGKILL', { ...process.env, ENGRAM_FAULT_CHECKPOINT_PAUSE: '6:5000' }, (c) => { child = c; });
    const tmpOf6 = (): string | undefined => (existsSync(root) ? readdirSync(root).find((n) => n.startsWith('.tmp-step-000000000006')) : undefined);
    const deadline = Date.now() + 60_000;
    while (!tmpOf6() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(tmpOf6(), 'the checkpoint write of step 6 started');
    child?.kill('SIGKILL');
    const killed = await partial;
    assert.equal(killed.signal, 'SIGKILL');
    const complete = readdirSync(root).filter((n) => /^step-\d{12}$/.test(n)).sort();
    assert.deepEqual(complete, ['step-000000000002', 'step-000000000004'], 'no partial checkpoint became visible');
    const resumed = await run(file, out, ['--resume']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(deterministicSummary(out), deterministicSummary(join(work, 'ref')));
    assert.deepEqual(finalDigest(out), finalDigest(join(work, 'ref')));
  });
});

describe('engram run --resume (CLI behaviour)', { timeout: 300_000 }, () => {
  const setup = (): { work: string; file: string } => {
    const work = mkdtempSync(join(tmpdir(), 'engram-resume-cli-'));
    const file = join(work, 'p.pipeline.json');
    writeFileSync(file, JSON.stringify(pipeline({ kind: 'naive' })));
    return { work, file };
  };

  it('SIGTERM finishes the current batch, writes a checkpoint and exits 143', async () => {
    const { work, file } = setup();
    const r = await run(file, join(work, 'out'), [], checkpointAt(4), 'SIGTERM');
    assert.equal(r.code, 143, r.stderr);
    const root = join(work, 'out', 'checkpoints');
    const steps = readdirSync(root).filter((n) => n.startsWith('step-')).map((n) => Number(n.slice(5)));
    assert.ok(Math.max(...steps) >= 5, `a checkpoint after the signal (steps ${steps.join(',')})`);
  });

  it('exits 2 with a clear message when there is no checkpoint to resume', async () => {
    const { work, file } = setup();
    const r = await run(file, join(work, 'empty'), ['--resume']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /nothing to resume: no checkpoint in /);
  });

  it('exits 2 naming the changed section when the pipeline changed incompatibly', async () => {
    const { work, file } = setup();
    const out = join(work, 'out');
    await run(file, out, [], checkpointAt(4));
    const changed = pipeline({ kind: 'naive' }) as { model: { layers: unknown[] } };
    changed.model.layers = [{ type: 'flatten' }, { type: 'dense', units: 32, activation: 'relu' }];
    writeFileSync(file, JSON.stringify(changed));
    const r = await run(file, out, ['--resume']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /the pipeline changed since it was written \("model" differs\)/);
  });
});
