import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkpointDirs, runEngram, type Exit } from './e2e-harness.js';

const TOTAL = 2400;
const PER_REQUEST = 20;

/** Record `i` of the feed: 4 classes, 8 features, deterministic. */
function record(i: number): { x: number[]; y: number } {
  const y = (i * 7 + Math.floor(i / 3)) % 4;
  return { x: Array.from({ length: 8 }, (_, f) => ((y * 3 + f * 5 + i * 11) % 17) / 17 + (f % 4 === y ? 2 : 0)), y };
}

/**
 * An http-fed stream pipeline with a journal, a checkpoint every 20 batches, ended after TOTAL samples (naive:
 * maxSamples counts replayed samples too, so no replay).
 */
function pipeline(): unknown {
  return {
    name: 'http-journal',
    seed: 3,
    backend: 'cpu',
    plugins: ['@engram/datasets', '@engram/strategies'],
    data: {
      kind: 'http',
      port: 0,
      inputShape: [8],
      numClasses: 4,
      buffer: 256,
      policy: 'block',
      journal: 'feed.journal',
    },
    model: { layers: [{ type: 'dense', units: 16, activation: 'relu' }] },
    optimizer: { type: 'adam', learningRate: 0.01 },
    strategy: { kind: 'naive' },
    boundary: { kind: 'every-n', samples: 600 },
    training: { batchSize: 8, maxSamples: TOTAL, logEvery: 10 },
    checkpoint: { everyBatches: 20, keep: 50 },
  };
}

/**
 * Runs `engram run` and POSTs records `from`… to its http source, one request of PER_REQUEST records
 * after the other (each waits for its 202); stops feeding when the process dies. Kills the run at the
 * first checkpoint at or after `killAtStep`.
 */
async function feedAndRun(
  file: string,
  out: string,
  extra: string[],
  from: number,
  killAtStep?: number,
): Promise<{ exit: Exit; acknowledged: number }> {
  let port: ((p: number) => void) | undefined;
  const listening = new Promise<number>((r) => (port = r));
  const exited = runEngram(file, out, extra, {
    killWhen: (line) => {
      const m = /http source listening on http:\/\/[^:]+:(\d+)\//.exec(line);
      if (m) port?.(Number(m[1]));
      if (killAtStep === undefined || !line.startsWith('{"type":"checkpoint"')) return false;
      return (JSON.parse(line) as { step: number }).step >= killAtStep;
    },
  });
  let alive = true;
  void exited.then(() => (alive = false));
  const p = await Promise.race([listening, exited.then(() => -1)]);
  let acknowledged = from;
  for (let i = from; i < TOTAL && alive && p > 0; i += PER_REQUEST) {
    const body = Array.from({ length: Math.min(PER_REQUEST, TOTAL - i) }, (_, k) => JSON.stringify(record(i + k))).join(
      '\n',
    );
    const res = await fetch(`http://127.0.0.1:${p}/`, { method: 'POST', body }).catch(() => undefined);
    if (res?.status !== 202) break;
    await res.arrayBuffer();
    acknowledged = i + PER_REQUEST;
  }
  return { exit: await exited, acknowledged: Math.min(acknowledged, TOTAL) };
}

/** Complete lines of the journal (a torn last line, cut off on resume, does not count). */
const journalLines = (work: string): number => readFileSync(join(work, 'feed.journal'), 'utf8').split('\n').length - 1;

/** The data source position stored in a checkpoint (its `/data` entry in state.json, checkpoint format 2). */
function sourceState(checkpoint: string): { delivered: number; feed: { offset: number; line: number } } {
  return (
    JSON.parse(readFileSync(join(checkpoint, 'state.json'), 'utf8')) as Record<
      string,
      { meta: { delivered: number; feed: { offset: number; line: number } } }
    >
  )['/data']?.meta as { delivered: number; feed: { offset: number; line: number } };
}

describe('http source with a journal, resumed after SIGKILL', () => {
  it(
    'trains on every acknowledged record exactly once: the records acknowledged but not trained on before the kill ' +
      'are replayed',
    async () => {
      const work = mkdtempSync(join(tmpdir(), 'engram-http-journal-'));
      const file = join(work, 'p.pipeline.json');
      writeFileSync(file, JSON.stringify(pipeline()));
      const out = join(work, 'run');

      const killed = await feedAndRun(file, out, [], 0, 60);
      assert.equal(killed.exit.signal, 'SIGKILL', `run was not killed: ${killed.exit.stderr}`);
      const journalled = journalLines(work);
      // An answer lost to the kill may belong to records already journalled: a client resumes after the journal's last record.
      assert.ok(
        journalled >= killed.acknowledged,
        `${killed.acknowledged} records acknowledged, only ${journalled} in the journal`,
      );
      const before = sourceState(checkpointDirs(out).pop() ?? '');
      assert.ok(
        before.delivered < killed.acknowledged,
        `the kill left acknowledged records untrained (${before.delivered} trained of ${killed.acknowledged})`,
      );

      const resumed = await feedAndRun(file, out, ['--resume'], journalled);
      assert.equal(resumed.exit.code, 0, resumed.exit.stderr);
      assert.ok((resumed.exit.firstCheckpointStep ?? Infinity) > 60, 'the resumed run continued from the checkpoint');
      assert.equal(journalLines(work), TOTAL);
      // Every checkpoint, before and after the kill: the samples trained on are exactly the journal's lines up to the saved position.
      for (const c of checkpointDirs(out)) {
        const s = sourceState(c);
        assert.equal(s.feed.line, s.delivered, `${c}: journal line ${s.feed.line}, ${s.delivered} samples trained`);
      }
      assert.equal(
        sourceState(checkpointDirs(out).pop() ?? '').delivered,
        TOTAL,
        'the final checkpoint has trained on every record once',
      );
      console.log(
        `# killed with ${killed.acknowledged} acknowledged, ${journalled} journalled, ${before.delivered} trained: ` +
          `${journalled - before.delivered} replayed`,
      );
    },
  );
});
