import { syntheticPipeline } from '../testing/synthetic-pipeline.js';

/** One malformed pipeline of the reliability corpus: its text and what it breaks. */
export interface MalformedCase {
  readonly name: string;
  readonly text: string;
  /** JSON pointer the error must name, when the case targets one field. */
  readonly pointer?: string;
}

/** A small valid pipeline (synthetic data, a tiny MLP) the corpus mutates. */
export function basePipeline(): Record<string, unknown> {
  // separation and spread are written out (their defaults) so the corpus can mutate them.
  return syntheticPipeline({
    name: 'base',
    data: { samplesPerClass: 20, separation: 4, spread: 1 },
    optimizer: { type: 'adam', learningRate: 0.01 },
    evaluation: { batchSize: 100, window: 100, fading: 0.99 },
    checkpoint: { everyBatches: 2, keep: 2 },
  });
}

const NUMERIC_PATHS = [
  '/seed',
  '/data/numClasses',
  '/data/features',
  '/data/samplesPerClass',
  '/data/testFraction',
  '/data/separation',
  '/data/spread',
  '/data/scenario/classesPerExperience',
  '/model/layers/0/units',
  '/optimizer/learningRate',
  '/training/epochs',
  '/training/batchSize',
  '/evaluation/batchSize',
  '/evaluation/window',
  '/evaluation/fading',
  '/checkpoint/everyBatches',
  '/checkpoint/keep',
];

/** Raw JSON texts that replace a number: each makes the field invalid. */
const BAD_NUMBERS = ['1e400', '-1e400', '"1"', 'null', '-1', 'true', '[]', '{}'];

const MARK = '"__ENGRAM_MARK__"';

/** The base pipeline's text with the value at `pointer` replaced by raw JSON `raw`. */
function withRaw(pointer: string, raw: string, doc = basePipeline()): string {
  const keys = pointer.split('/').slice(1);
  let node = doc;
  for (const k of keys.slice(0, -1)) node = node[k] as Record<string, unknown>;
  node[keys[keys.length - 1] as string] = '__ENGRAM_MARK__';
  return JSON.stringify(doc, null, 1).replace(MARK, raw);
}

function edit(mutate: (doc: Record<string, unknown>) => void): string {
  const doc = basePipeline();
  mutate(doc);
  return JSON.stringify(doc, null, 1);
}

/**
 * The malformed-pipeline corpus: every field set to non-finite, mistyped or out-of-range values,
 * duplicate keys, deep nesting, unknown and missing properties, forbidden plugin specifiers, bad
 * names, syntax errors and non-objects. Every case must be refused with exit 2 and pointed problems.
 */
export function malformedCorpus(): MalformedCase[] {
  const out: MalformedCase[] = [];
  for (const pointer of NUMERIC_PATHS)
    for (const raw of BAD_NUMBERS) out.push({ name: `${pointer} = ${raw}`, text: withRaw(pointer, raw), pointer });
  const base = JSON.stringify(basePipeline(), null, 1);
  for (const section of [
    'name',
    'seed',
    'backend',
    'plugins',
    'data',
    'model',
    'optimizer',
    'strategy',
    'training',
    'evaluation',
    'checkpoint',
  ]) {
    const value = JSON.stringify(basePipeline()[section]);
    out.push({
      name: `duplicate "${section}"`,
      text: `{"${section}": ${value},${base.slice(1)}`,
      pointer: `/${section}`,
    });
  }
  out.push({
    name: 'duplicate training first with 1e6 epochs',
    text: base.replace('"training": {', '"training": {"epochs": 1000000}, "training": {'),
    pointer: '/training',
  });
  out.push({
    name: 'duplicate nested /data/kind',
    text: base.replace('"kind": "synthetic"', '"kind": "mnist", "kind": "synthetic"'),
    pointer: '/data/kind',
  });
  out.push({
    name: 'duplicate nested /training/epochs',
    text: base.replace('"epochs": 1', '"epochs": 1000000, "epochs": 1'),
    pointer: '/training/epochs',
  });
  for (const depth of [65, 1000, 100_000]) {
    out.push({
      name: `arrays nested ${depth} deep in /data`,
      text: withRaw('/data/features', `${'['.repeat(depth)}${']'.repeat(depth)}`),
    });
    out.push({
      name: `objects nested ${depth} deep in /model`,
      text: withRaw('/model', `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`),
    });
  }
  out.push({ name: 'a document that is only nesting', text: `${'['.repeat(200_000)}${']'.repeat(200_000)}` });
  for (const section of ['data', 'model', 'optimizer', 'strategy', 'training', 'evaluation', 'checkpoint', 'output']) {
    out.push({
      name: `unknown property in /${section}`,
      text: edit((d) => (((d[section] as Record<string, unknown> | undefined) ?? (d[section] = {}))['surprise'] = 1)),
      pointer: `/${section}/surprise`,
    });
  }
  out.push({ name: 'unknown top-level property', text: edit((d) => (d['surprise'] = 1)), pointer: '/surprise' });
  for (const section of ['name', 'data', 'model', 'strategy'])
    out.push({ name: `missing /${section}`, text: edit((d) => delete d[section]), pointer: `/${section}` });
  out.push({
    name: 'unknown data kind',
    text: edit((d) => ((d['data'] as Record<string, unknown>)['kind'] = 'nope')),
    pointer: '/data/kind',
  });
  out.push({
    name: 'unknown strategy kind',
    text: edit((d) => (d['strategy'] = { kind: 'nope' })),
    pointer: '/strategy/kind',
  });
  out.push({
    name: 'unknown optimizer type',
    text: edit((d) => (d['optimizer'] = { type: 'adan' })),
    pointer: '/optimizer/type',
  });
  out.push({
    name: 'unknown layer type',
    text: edit((d) => (d['model'] = { layers: [{ type: 'capsule' }] })),
    pointer: '/model/layers/0/type',
  });
  out.push({ name: 'testFraction 0', text: withRaw('/data/testFraction', '0'), pointer: '/data/testFraction' });
  out.push({ name: 'features 1e9', text: withRaw('/data/features', '1e9'), pointer: '/data/features' });
  out.push({
    name: 'learningRate 1e400',
    text: withRaw('/optimizer/learningRate', '1e400'),
    pointer: '/optimizer/learningRate',
  });
  const code = "import{writeFileSync}from'node:fs';writeFileSync('/tmp/engram-pwned','x');export default {}";
  const plugins = [
    `data:text/javascript,${code}`,
    `data:text/javascript;base64,${Buffer.from(code).toString('base64')}`,
    'http://127.0.0.1:1/p.js',
    'https://example.com/p.js',
    'node:fs',
    'file:///etc/passwd',
    './local-plugin.js',
    '../outside.js',
    '/etc/passwd',
    'not a name!',
    '',
    'engram-plugin-not-installed',
  ];
  for (const p of plugins)
    out.push({
      name: `plugin ${p.slice(0, 40)}`,
      text: edit((d) => (d['plugins'] = ['@engram/datasets', '@engram/strategies', p])),
      pointer: '/plugins/2',
    });
  for (const name of ['bad name!', '../../etc', '', ' x'])
    out.push({ name: `name ${JSON.stringify(name)}`, text: edit((d) => (d['name'] = name)), pointer: '/name' });
  const syntax = [
    '',
    '{',
    '{"name": "x",}',
    '{"name": "x" "seed": 1}',
    'null',
    '[]',
    '42',
    '"pipeline"',
    '\u0000',
    '{"name": NaN}',
    '{"seed": Infinity}',
    base.slice(0, base.length / 2),
  ];
  for (const s of syntax) out.push({ name: `syntax ${JSON.stringify(s.slice(0, 20))}`, text: s });
  return out;
}
