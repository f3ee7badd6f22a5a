import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..', '..');
const cli = join(root, 'packages', 'cli', 'dist', 'main.js');

/** The example's two pipelines on a slice of MNIST (30 images per digit, one epoch or 5 steps per experience), written to `dir`. */
function slices(dir: string): string[] {
  return ['quickstart.pipeline.json', 'split-mnist/class-il-ewc.pipeline.json'].map((rel, i) => {
    const doc = JSON.parse(readFileSync(join(root, 'examples', rel), 'utf8')) as Record<
      string,
      Record<string, unknown>
    >;
    delete doc['$schema'];
    const file = join(dir, `${i}.pipeline.json`);
    writeFileSync(
      file,
      JSON.stringify({
        ...doc,
        data: { ...doc['data'], limitPerClass: 30 },
        training: {
          ...doc['training'],
          ...((doc['training'] as { iterations?: number } | undefined)?.iterations !== undefined
            ? { iterations: 5 }
            : { epochs: 1 }),
        },
      }),
    );
    return file;
  });
}

test('examples/embed/two-runs.mjs trains two pipelines concurrently and prints the matrices engram run gives for each alone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-embed-'));
  try {
    const files = slices(dir);
    const { stdout } = await run(
      process.execPath,
      [join(root, 'examples', 'embed', 'two-runs.mjs'), join(dir, 'together'), ...files],
      { cwd: root },
    );
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { name: string; accuracyMatrix: Array<Array<number | null>> });
    assert.deepEqual(
      lines.map((l) => l.name),
      ['quickstart', 'split-mnist-class-il-ewc'],
    );
    for (const [i, file] of files.entries()) {
      const out = join(dir, `alone-${i}`);
      await run(process.execPath, [cli, 'run', file, '--out', out, '--quiet'], { cwd: root });
      const alone = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { accuracyMatrix: unknown };
      assert.deepEqual(lines[i]?.accuracyMatrix, alone.accuracyMatrix);
      assert.equal(lines[i]?.accuracyMatrix.length, 5);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
