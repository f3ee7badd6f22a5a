import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { figures } from '../report/testing/report-page.js';
import { groupOverSeeds, seedStat } from './seed-groups.js';
import type { SweepJob, SweepPlan } from './sweep-plan.js';
import { renderSweepReport } from './sweep-report.js';
import { collectResults } from './sweep-results.js';
import { sweepSchemaText } from './sweep.schema.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..', '..', '..');

/** Sweep results of a 2 (lambda) × 3 (seed) grid with known ACC per combination; the last one failed. */
function sweep(dir: string): ReturnType<typeof collectResults> {
  const acc: Record<string, number | null> = {
    '10/1': 0.5,
    '10/2': 0.6,
    '10/3': 0.7,
    '1000/1': 0.8,
    '1000/2': 0.9,
    '1000/3': null,
  };
  const jobs: SweepJob[] = Object.entries(acc).map(([key, a], index) => {
    const [lambda, seed] = key.split('/').map(Number);
    const out = join(dir, `c${index}`);
    mkdirSync(out);
    const summary =
      a === null
        ? { status: 'failed', stopped: null, error: 'diverged' }
        : {
            status: 'completed',
            stopped: null,
            error: null,
            averageAccuracy: a,
            bwt: -a / 10,
            fwt: null,
            forgetting: a / 5,
            learningAccuracy: a,
          };
    writeFileSync(join(out, 'summary.json'), JSON.stringify(summary));
    return {
      sweep: 's',
      index,
      name: `c${index}`,
      overrides: { '/strategy/lambda': lambda, '/seed': seed },
      baseFile: '',
      doc: {},
      outDir: out,
    };
  });
  const plan = {
    name: 's',
    file: '',
    baseFile: 'base.json',
    metric: 'ACC',
    goal: 'max',
    pointers: ['/strategy/lambda', '/seed'],
  };
  return collectResults(plan as unknown as SweepPlan, jobs);
}

test('sweep results are grouped over seeds: mean ± sample sd with n, ranked by the mean, failures counted', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-sweep-seeds-'));
  try {
    const r = sweep(dir);
    assert.deepEqual(r.seedPointers, ['/seed']);
    assert.equal(r.groups.length, 2);
    const [best, next] = r.groups;
    assert.deepEqual(best?.setting, { '/strategy/lambda': 1000 });
    assert.equal(best?.rank, 1);
    assert.equal(best?.failed, 1);
    assert.ok(Math.abs((best?.stats.ACC.mean ?? 0) - 0.85) < 1e-12);
    assert.ok(Math.abs((best?.stats.ACC.sd ?? 0) - Math.sqrt(0.005)) < 1e-12);
    assert.equal(best?.stats.ACC.n, 2);
    assert.deepEqual(best?.seeds, [1, 2, 3]);
    assert.ok(Math.abs((next?.stats.ACC.mean ?? 0) - 0.6) < 1e-12);
    assert.ok(Math.abs((next?.stats.ACC.sd ?? 0) - 0.1) < 1e-12);
    assert.equal(next?.stats.ACC.n, 3);
    const lines = r.table.split('\n');
    assert.match(lines[0] ?? '', /^rank\s+\/strategy\/lambda\s+ACC\s+BWT\s+forgetting\s+preq\. acc\s+n\s+failed$/);
    assert.match(lines[2] ?? '', /^\s*1\s+1000\s+85\.0 ± 7\.1%\s+-8\.5 ± 0\.7%\s+17\.0 ± 1\.4%\s+—\s+2\s+1$/);
    assert.match(lines[3] ?? '', /^\s*2\s+10\s+60\.0 ± 10\.0%\s+-6\.0 ± 1\.0%\s+12\.0 ± 2\.0%\s+—\s+3\s+0$/);
    assert.doesNotMatch(r.table, /\/seed/, 'seeds are averaged, not a column');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a sweep without seed pointers keeps one row per combination, figures in percent', () => {
  const groups = groupOverSeeds(
    ['/lr'],
    [
      { name: 'a', overrides: { '/lr': 0.1 }, status: 'done', ACC: 0.4 },
      { name: 'b', overrides: { '/lr': 0.01 }, status: 'done', ACC: 0.7 },
    ],
    'ACC',
    'max',
  );
  assert.deepEqual(
    groups.map((g) => [g.rank, g.combinations, g.stats.ACC]),
    [
      [1, ['b'], { mean: 0.7, sd: null, n: 1 }],
      [2, ['a'], { mean: 0.4, sd: null, n: 1 }],
    ],
  );
  assert.deepEqual(seedStat([null, 2, 4]), { mean: 3, sd: Math.SQRT2, n: 2 });
});

test('the sweep report is a real HTML table and charts the swept value with seeds as colours, never as an axis', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-sweep-seeds-'));
  try {
    const r = sweep(dir);
    const html = readFileSync(await renderSweepReport(dir, r), 'utf8');
    assert.doesNotMatch(html, /<pre class="ranking">/);
    const table = /<table class="ranking">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? '';
    const cells = [...table.matchAll(/<t[hd][^>]*>([^<]*)<\/t[hd]>/g)].map((m) => m[1]);
    assert.deepEqual(cells.slice(0, 8), [
      'rank',
      '/strategy/lambda',
      'ACC',
      'BWT',
      'forgetting',
      'preq. acc',
      'n',
      'failed',
    ]);
    assert.deepEqual(cells.slice(8, 11), ['1', '1000', '85.0 ± 7.1%']);
    assert.deepEqual(
      figures(html).map((f) => f.id),
      ['sweep-0'],
      'one chart, over lambda; none over /seed',
    );
    const spec = JSON.stringify(figures(html)[0]?.spec);
    assert.match(spec, /"fill":\{"scale":"color","field":"seed"\}/, 'points coloured by seed');
    assert.match(spec, /"legends":\[\{"title":"\/seed"/);
    assert.doesNotMatch(spec, /"title":"\/seed","labelFlush"/, 'no axis titled /seed');
    assert.match(spec, /ACC \(%\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('schemas/sweep.schema.json is the generated sweep schema, and every example sweep has it and no editor diagnostic', async () => {
  const committed = readFileSync(join(root, 'schemas', 'sweep.schema.json'), 'utf8');
  assert.equal(committed, sweepSchemaText(), 'regenerate with npm run schema');
  const ls = createRequire(import.meta.url)(
    'vscode-json-languageservice',
  ) as typeof import('vscode-json-languageservice');
  const service = ls.getLanguageService({
    schemaRequestService: (uri) =>
      uri.endsWith('/schemas/sweep.schema.json')
        ? Promise.resolve(committed)
        : Promise.reject(new Error(`unexpected schema ${uri}`)),
    workspaceContext: { resolveRelativePath: (relative, resource) => new URL(relative, resource).href },
  });
  service.configure({ validate: true });
  const diagnose = async (file: string, text: string): Promise<string[]> => {
    const doc = ls.TextDocument.create(pathToFileURL(file).href, 'json', 1, text);
    const found = await service.doValidation(doc, service.parseJSONDocument(doc));
    return found.map(
      (d) => `${d.range.start.line + 1}: ${typeof d.message === 'string' ? d.message : d.message.value}`,
    );
  };
  const examples = readdirSync(join(root, 'examples'), { recursive: true, encoding: 'utf8' }).filter((f) =>
    f.endsWith('.sweep.json'),
  );
  assert.ok(examples.length >= 1);
  for (const f of examples) {
    const file = join(root, 'examples', f);
    const text = readFileSync(file, 'utf8');
    const doc = JSON.parse(text) as { $schema?: string };
    assert.equal(
      resolve(dirname(file), doc.$schema ?? ''),
      join(root, 'schemas', 'sweep.schema.json'),
      `${f} names the schema`,
    );
    assert.deepEqual(await diagnose(file, text), [], f);
  }
  // The schema does catch mistakes: a misspelt key and a metric that does not exist.
  const wrong = await diagnose(
    join(root, 'examples', 'sweeps', 'wrong.sweep.json'),
    JSON.stringify({ $schema: '../../schemas/sweep.schema.json', pipeline: 'p.json', grids: {}, metric: 'accuracy' }),
  );
  assert.equal(wrong.length, 2, wrong.join('\n'));
});
