#!/usr/bin/env node
// Measures the layout of packages/core/src (issue #26): imports that run upward between its folders,
// import circles between its files, the names `internal.ts` re-exports, and the `[resume]`/`[continue]`
// tagged lines and start-dependent branches left in the engine and its feed. No dependencies: it reads the
// relative `import … from '…'` / `export … from '…'` specifiers of every non-test .ts file.
//
//   node scripts/core-layout.mjs          # report
//   node scripts/core-layout.mjs --check  # also exit 1 when an upward import or a circle exists
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../packages/core/src');

/** Folders from the bottom up: a folder may import from its own rank or below. */
const LAYERS = [
  ['random', 'events'],
  ['data'],
  ['plugin-api'],
  ['plugin', 'output'],
  ['pipeline'],
  ['backend', 'model'],
  ['training', 'preprocess'],
  ['stream', 'evaluation', 'metrics', 'run'],
  ['logging', 'checkpoint', 'loading'],
  ['stages'],
  ['builtins', 'engine'],
  ['testing'],
];
const rank = new Map(LAYERS.flatMap((names, i) => names.map((n) => [n, i])));

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

const all = files(SRC);
const graph = new Map();
for (const file of all) {
  const text = readFileSync(file, 'utf8');
  const targets = [...text.matchAll(/(?:import|export)\s[^'";]*?from\s+'(\.[^']+)'/g)].map((m) =>
    resolve(dirname(file), m[1].replace(/\.js$/, '.ts')),
  );
  graph.set(
    file,
    [...new Set(targets)].filter((t) => graph.has(t) || all.includes(t)),
  );
}

const folder = (file) => relative(SRC, file).split('/')[0];
const upward = [];
for (const [file, targets] of graph)
  for (const t of targets) {
    const a = rank.get(folder(file));
    const b = rank.get(folder(t));
    if (a !== undefined && b !== undefined && b > a) upward.push(`${relative(SRC, file)} → ${relative(SRC, t)}`);
  }

// Tarjan's strongly connected components: every component of more than one file is a circle.
const index = new Map();
const low = new Map();
const stack = [];
const on = new Set();
const circles = [];
let next = 0;
function visit(v) {
  index.set(v, next);
  low.set(v, next++);
  stack.push(v);
  on.add(v);
  for (const w of graph.get(v) ?? []) {
    if (!index.has(w)) {
      visit(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (on.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
  }
  if (low.get(v) === index.get(v)) {
    const scc = [];
    let w;
    do {
      w = stack.pop();
      on.delete(w);
      scc.push(relative(SRC, w));
    } while (w !== v);
    if (scc.length > 1) circles.push(scc.sort());
  }
}
for (const v of graph.keys()) if (!index.has(v)) visit(v);

const internal = readFileSync(join(SRC, 'internal.ts'), 'utf8');
const starExports = (internal.match(/^export \* from/gm) ?? []).length;
const namedExports = [...internal.matchAll(/^export (?:type )?\{([^}]*)\}/gm)].reduce(
  (n, m) => n + m[1].split(',').filter((s) => s.trim()).length,
  0,
);

const engineFiles = files(join(SRC, 'engine'));
const tagged = engineFiles.concat(files(join(SRC, 'stages'))).flatMap((f) =>
  readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => /\[(resume|continue)\]/.test(l))
    .map(() => relative(SRC, f)),
);
// The engine's run path (engine.ts held all of it before issue #26; the start objects are where starts differ).
const branchFiles = ['engine/engine.ts', 'engine/run-feed.ts', 'engine/run-assembly.ts', 'engine/run-items.ts']
  .map((f) => join(SRC, f))
  .filter((f) => all.includes(f));
const branches = branchFiles.flatMap((f) =>
  readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => !/^\s*(readonly|let|const \w+: \w+ \| undefined;)/.test(l))
    .filter((l) => /\b(resume|resumed|continued|from)\b/.test(l) && /\bif \(|\?\??|&&/.test(l))
    .map((l) => `${relative(SRC, f)}: ${l.trim()}`),
);

console.log(`upward imports (file edges): ${upward.length}`);
for (const u of upward) console.log(`  ${u}`);
console.log(`import circles: ${circles.length}`);
for (const c of circles) console.log(`  ${c.join(' ↔ ')}`);
console.log(`internal.ts: ${starExports} export *, ${namedExports} named re-exports`);
console.log(`[resume]/[continue]-tagged lines in engine/ and stages/: ${tagged.length}`);
console.log(`start-dependent branches on the engine's run path (engine, feed, assembly, items): ${branches.length}`);
for (const b of branches) console.log(`  ${b}`);
if (process.argv.includes('--check') && (upward.length > 0 || circles.length > 0)) process.exit(1);
