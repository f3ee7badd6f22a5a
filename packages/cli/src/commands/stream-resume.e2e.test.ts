import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkpointDirs, deterministicSummary, finalDigest, runEngram, type Exit } from './e2e-harness.js';

/** A small stream pipeline: replay + online EWC, a checkpoint every 20 batches, ended by maxSamples. */
function pipeline(data: unknown, boundary: unknown, maxSamples: number): unknown {
  return {
    name: 'stream-tiny',
    seed: 3,
    backend: 'cpu',
    plugins: ['@engram/datasets', '@engram/strategies'],
    data,
    model: {
      layers: [
        { type: 'dense', units: 16, activation: 'relu' },
        { type: 'dropout', rate: 0.2 },
      ],
    },
    optimizer: { type: 'adam', learningRate: 0.01 },
    strategy: [
      { kind: 'replay', bufferSize: 50 },
      { kind: 'online-ewc', lambda: 100, gamma: 0.9, fisherSamples: 100 },
    ],
    boundary,
    training: { batchSize: 8, maxSamples, logEvery: 10 },
    checkpoint: { everyBatches: 20, keep: 3 },
  };
}

type Event = { type: string; step?: number };

/** Runs `engram run --json`; SIGKILLs it as soon as `killWhen` matches an emitted event. */
function run(file: string, out: string, extra: string[], killWhen?: (e: Event) => boolean): Promise<Exit> {
  return runEngram(
    file,
    out,
    extra,
    killWhen ? { killWhen: (line) => line.startsWith('{') && killWhen(JSON.parse(line) as Event) } : {},
  );
}

/** The data source position stored in a checkpoint (its `/data` entry in state.json, checkpoint format 2). */
function sourceState(checkpoint: string): { delivered: number; feed: unknown } {
  return (
    JSON.parse(readFileSync(join(checkpoint, 'state.json'), 'utf8')) as Record<
      string,
      { meta: { delivered: number; feed: unknown } }
    >
  )['/data']?.meta as { delivered: number; feed: unknown };
}

const at =
  (type: string, minStep: number) =>
  (e: Event): boolean =>
    e.type === type && (e.step ?? -1) >= minStep;

/** Reference run, then killed/resumed runs; asserts the resumed outcome equals the reference. */
async function killAndResume(
  file: string,
  work: string,
  kills: Array<(e: Event) => boolean>,
  inspect?: (checkpoint: string) => void,
): Promise<Record<string, unknown>> {
  const reference = await run(file, join(work, 'ref'), []);
  assert.equal(reference.code, 0, reference.stderr);
  const out = join(work, 'killed');
  let first = true;
  for (const when of kills) {
    const r = await run(file, out, first ? [] : ['--resume'], when);
    assert.equal(r.signal, 'SIGKILL', `run was not killed: ${r.stderr}`);
    if (!first)
      assert.ok(
        (r.firstCheckpointStep ?? Infinity) > 20,
        `resumed run started over (first checkpoint at step ${r.firstCheckpointStep})`,
      );
    first = false;
    for (const c of checkpointDirs(out)) inspect?.(c);
  }
  const last = await run(file, out, ['--resume']);
  assert.equal(last.code, 0, last.stderr);
  assert.ok((last.firstCheckpointStep ?? Infinity) > 20);
  const summary = deterministicSummary(out);
  assert.deepEqual(summary, deterministicSummary(join(work, 'ref')));
  assert.deepEqual(finalDigest(out), finalDigest(join(work, 'ref')));
  return summary;
}

describe('stream-mode resume after SIGKILL', () => {
  it(
    'a drifting synthetic stream (page-hinkley, replay + online-ewc) ends with the same prequential figures, drift ' +
      'points and bit-identical weights',
    async () => {
      const work = mkdtempSync(join(tmpdir(), 'engram-stream-resume-'));
      const file = join(work, 'p.pipeline.json');
      const data = {
        kind: 'synthetic',
        endless: true,
        numClasses: 4,
        features: 8,
        separation: 2,
        spread: 1,
        drift: 'abrupt',
        driftEvery: 600,
        buffer: 64,
        policy: 'block',
      };
      writeFileSync(
        file,
        JSON.stringify(pipeline(data, { kind: 'page-hinkley', threshold: 10, minInstances: 30 }, 4800)),
      );
      // right after a checkpoint (experience 0); at a detected boundary (strategies consolidating); between two checkpoints
      const kills = [at('checkpoint', 60), at('boundary', 100), at('prequential', 230)];
      const summary = await killAndResume(file, work, kills, (c) => {
        // the generator position saved is that of the last sample trained on, not of what the producer buffered ahead
        const s = sourceState(c);
        assert.equal(
          (s.feed as { t: number }).t,
          s.delivered,
          `${c}: generator at ${(s.feed as { t: number }).t}, trainer pulled ${s.delivered}`,
        );
      });
      assert.ok((summary['driftPoints'] as unknown[]).length >= 2, 'the stream crossed boundaries');
      assert.ok((summary['prequential'] as { samples: number }).samples > 2000);
    },
  );

  it('a jsonl-follow file killed mid-way resumes at the first line not yet trained on and ends like an uninterrupted run', async () => {
    const work = mkdtempSync(join(tmpdir(), 'engram-follow-resume-'));
    // 3,000 records in 4 classes whose centres jump every 1,000 records, written in full before the run.
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const y = (i * 7 + Math.floor(i / 3)) % 4;
      const shift = Math.floor(i / 1000) * 1.5;
      const x = Array.from({ length: 8 }, (_, f) =>
        (((y * 3 + f * 5 + i * 11) % 17) / 17 + (f % 4 === y ? 2 : 0) - shift * (f % 2)).toFixed(4),
      );
      lines.push(`{"x":[${x.join(',')}],"y":${y}}`);
    }
    const text = `${lines.join('\n')}\n`;
    writeFileSync(join(work, 'feed.jsonl'), text);
    const starts = [0];
    for (const l of lines) starts.push((starts[starts.length - 1] ?? 0) + Buffer.byteLength(l) + 1);
    const file = join(work, 'p.pipeline.json');
    const data = { kind: 'jsonl-follow', path: 'feed.jsonl', inputShape: [8], numClasses: 4, buffer: 32, pollMs: 20 };
    // maxSamples counts the file's records (replayed samples apart): 2,400 of the 3,000 lines, so the run ends
    // before the follower reaches the end of the file and waits for lines that never come.
    writeFileSync(file, JSON.stringify(pipeline(data, { kind: 'every-n', samples: 400 }, 2400)));
    await killAndResume(file, work, [at('checkpoint', 40), at('boundary', 90), at('prequential', 170)], (c) => {
      // the offset saved is the start of the line after the last one the trainer pulled (buffered lines are
      // read again), with the number of lines before it
      const s = sourceState(c);
      assert.deepEqual(
        s.feed,
        { offset: starts[s.delivered], line: s.delivered },
        `${c}: ${JSON.stringify(s.feed)} for ${s.delivered} lines trained`,
      );
    });
  });
});
