import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { COMPONENT_ROLES, type ComponentRole } from '@engram/core';
import { loadDefaultPlugins, loadPipelineFile } from '../cli-context.js';

// The engine VS Code's JSON support runs on; its ESM build does not load in Node, so take the CommonJS one.
const ls = createRequire(import.meta.url)(
  'vscode-json-languageservice',
) as typeof import('vscode-json-languageservice');

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..', '..', '..');
const schemaText = readFileSync(join(root, 'schemas', 'pipeline.schema.json'), 'utf8');
const service = ls.getLanguageService({
  schemaRequestService: (uri) =>
    uri.endsWith('/schemas/pipeline.schema.json')
      ? Promise.resolve(schemaText)
      : Promise.reject(new Error(`unexpected schema ${uri}`)),
  workspaceContext: { resolveRelativePath: (relative, resource) => new URL(relative, resource).href },
});
service.configure({ validate: true });

function document(file: string, text: string): import('vscode-json-languageservice').TextDocument {
  return ls.TextDocument.create(pathToFileURL(file).href, 'json', 1, text);
}

/** Completion labels (unquoted) and their documentation at the first `|` in `text` (which is removed). */
async function complete(text: string): Promise<Map<string, string>> {
  const at = text.indexOf('|');
  const doc = document(join(root, 'examples', 'editing.pipeline.json'), text.replace('|', ''));
  const list = await service.doComplete(doc, doc.positionAt(at), service.parseJSONDocument(doc));
  const docs = (d: unknown): string =>
    typeof d === 'string' ? d : typeof d === 'object' && d !== null && 'value' in d ? String(d.value) : '';
  return new Map((list?.items ?? []).map((i) => [i.label.replace(/^"|"$/g, ''), docs(i.documentation)]));
}

const examples = readdirSync(join(root, 'examples'), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.pipeline.json'))
  .sort();

test('the JSON language service finds no problem in any shipped example', async () => {
  assert.ok(examples.length >= 40);
  const found: string[] = [];
  for (const f of examples) {
    const file = join(root, 'examples', f);
    const doc = document(file, readFileSync(file, 'utf8'));
    const diagnostics = await service.doValidation(doc, service.parseJSONDocument(doc));
    found.push(
      ...diagnostics.map(
        (d) => `${f}:${d.range.start.line + 1}: ${typeof d.message === 'string' ? d.message : d.message.value}`,
      ),
    );
  }
  assert.deepEqual(found, []);
});

/** Where each role's `kind` is written in a pipeline, as a JSON fragment with the cursor `|`. */
const PLACES: Record<ComponentRole, string[]> = {
  dataset: ['"data": {"kind": "|"}'],
  transform: ['"preprocess": [{"kind": "|"}]'],
  adjust: ['"adjust": [{"kind": "|"}]'],
  strategy: [
    '"strategy": {"kind": "|"}',
    '"strategy": [{"kind": "replay"}, {"kind": "|"}]',
    '"strategy": {"kind": "|", "lambda": 100}',
  ],
  detector: ['"boundary": {"kind": "|"}'],
  stage: ['"stages": [{"kind": "|"}]'],
  logger: ['"loggers": [{"kind": "|"}]'],
};

test('completion offers every kind of every role, each with a description', async () => {
  const { registry } = await loadDefaultPlugins();
  for (const role of COMPONENT_ROLES) {
    const kinds = registry.kinds(role);
    for (const place of PLACES[role]) {
      const base = role === 'dataset' ? '' : '"data": {"kind": "mnist"}, ';
      const offered = await complete(
        `{"$schema": "../schemas/pipeline.schema.json", "name": "x", ${base}"model": {"layers": []}, ${place}}`,
      );
      for (const kind of kinds) {
        assert.ok(
          offered.has(kind),
          `${role} ${place}: ${kind} not offered (offered: ${[...offered.keys()].join(', ')})`,
        );
        assert.ok((offered.get(kind) ?? '').length > 10, `${role} ${kind} has no description in completion`);
      }
    }
  }
  const optimizers = await complete(
    '{"$schema": "../schemas/pipeline.schema.json", "optimizer": {"type": "|", "learningRate": 0.1}}',
  );
  assert.deepEqual([...optimizers.keys()].sort(), ['adagrad', 'adam', 'adamax', 'momentum', 'rmsprop', 'sgd']);
  const layers = await complete(
    '{"$schema": "../schemas/pipeline.schema.json", "model": {"layers": [{"type": "|", "units": 3}]}}',
  );
  for (const t of [
    'dense',
    'conv2d',
    'maxPooling2d',
    'flatten',
    'dropout',
    'batchNormalization',
    'activation',
    'reshape',
  ])
    assert.ok(layers.has(t), t);
});

test('every option and every kind in the schema has a description', () => {
  const schema = JSON.parse(schemaText) as unknown;
  const missing: string[] = [];
  let options = 0;
  const walk = (node: unknown, path: string): void => {
    if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${path}/${i}`));
    if (typeof node !== 'object' || node === null) return;
    const o = node as Record<string, unknown>;
    for (const [k, v] of Object.entries(
      (o['properties'] ?? {}) as Record<
        string,
        { description?: string; enum?: unknown[]; enumDescriptions?: string[] }
      >,
    )) {
      options++;
      if (!v.description) missing.push(`${path}/properties/${k}`);
      if (v.enum && (k === 'kind' || k === 'type') && v.enumDescriptions?.length !== v.enum.length)
        missing.push(`${path}/properties/${k} (values)`);
    }
    for (const [k, v] of Object.entries(o))
      if (!['default', 'const', 'enum', 'examples', 'not', 'if'].includes(k)) walk(v, `${path}/${k}`);
  };
  walk(schema, '');
  assert.ok(options > 300, `${options} options`);
  assert.deepEqual(missing, []);
});

test('no option with a default is required in the schema, and validation still fills the defaults in', async () => {
  const required: string[] = [];
  const walk = (node: unknown, path: string): void => {
    if (typeof node !== 'object' || node === null) return;
    const o = node as Record<string, unknown>;
    const props = (o['properties'] ?? {}) as Record<string, { default?: unknown }>;
    for (const name of (o['required'] ?? []) as string[])
      if (props[name] && 'default' in props[name]) required.push(`${path}/${name}`);
    for (const [k, v] of Object.entries(o)) if (k !== 'default') walk(v, `${path}/${k}`);
  };
  walk(JSON.parse(schemaText), '');
  assert.deepEqual(required, []);
  const { definition } = await loadPipelineFile(join(root, 'examples', 'quickstart.pipeline.json'));
  assert.equal(definition.training.batchSize, 128);
  assert.equal(definition.training.shuffle, true);
  assert.equal(definition.checkpoint.keep, 2);
  assert.deepEqual(definition.loggers, []);
  assert.equal(
    (definition.data as unknown as { limitPerClass?: number; flatten?: boolean }).flatten !== undefined,
    true,
    'a dataset option default is filled',
  );
});
