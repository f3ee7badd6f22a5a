// Keeps incremental builds honest (design §1) without wiping dist/ on every build: removes compiled
// files whose source .ts no longer exists (a deleted test must not linger in dist/ and run again), and
// forgets a package's build info when its dist/ lost outputs that tsc -b would otherwise think current.
// Cheap: one directory walk per package, no compilation.
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const OUTPUT = /(\.d\.ts\.map|\.d\.ts|\.js\.map|\.js)$/;

function walk(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(dir, f)).isFile());
}

let removed = 0;
let reset = 0;
for (const pkg of readdirSync('packages')) {
  const dir = join('packages', pkg);
  if (!existsSync(join(dir, 'tsconfig.json'))) continue;
  const src = join(dir, 'src');
  const dist = join(dir, 'dist');
  const sources = new Set(
    walk(src)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
      .map((f) => f.slice(0, -3)),
  );
  for (const f of walk(dist)) {
    const m = OUTPUT.exec(f);
    if (m && !sources.has(f.slice(0, -m[1].length))) {
      rmSync(join(dist, f));
      removed++;
    }
  }
  // An output deleted by hand (or a dist/ removed) while tsc's build info survived: build it again.
  const missing = [...sources].some((s) => !existsSync(join(dist, `${s}.js`)));
  if (missing) {
    for (const f of readdirSync(dir)) {
      if (f.endsWith('.tsbuildinfo')) {
        rmSync(join(dir, f), { force: true });
        reset++;
      }
    }
  }
}
if (removed + reset > 0)
  console.log(`prune-dist: removed ${removed} stale output file(s), reset ${reset} package build(s)`);
