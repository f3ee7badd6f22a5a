// `npm run release:pack`: packs every workspace package into one folder (default dist-packages/), so a
// project outside the repository installs Engram with `npm i <folder>/*.tgz`. Run after a build.
// Refuses when the packages' versions disagree or a package names another @engram package at a version
// that is not the one packed beside it (npm would then look for it in the registry).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outArg = process.argv.indexOf('--out');
const out = resolve(outArg > 0 ? (process.argv[outArg + 1] ?? '') : join(root, 'dist-packages'));

const workspaces = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).workspaces;
const manifests = workspaces.map((w) => ({
  dir: w,
  ...JSON.parse(readFileSync(join(root, w, 'package.json'), 'utf8')),
}));
const problems = [];
const versions = new Set(manifests.map((m) => m.version));
if (versions.size !== 1) problems.push(`the packages have different versions: ${[...versions].join(', ')}`);
const [version] = versions;
for (const m of manifests) {
  for (const field of ['dependencies', 'peerDependencies', 'devDependencies']) {
    for (const [name, range] of Object.entries(m[field] ?? {})) {
      if (name.startsWith('@engram/') && range !== version)
        problems.push(`${m.dir}/package.json ${field}.${name} is "${range}", not the packed version ${version}`);
    }
  }
  for (const file of [m.main, m.types, ...Object.values(m.bin ?? {})].filter(Boolean)) {
    if (!existsSync(join(root, m.dir, file))) problems.push(`${m.dir}: ${file} does not exist (run npm run build)`);
  }
  if (!existsSync(join(root, m.dir, 'LICENSE'))) problems.push(`${m.dir}: no LICENSE`);
}
if (problems.length > 0) {
  for (const p of problems) process.stderr.write(`error: ${p}\n`);
  process.exit(1);
}

mkdirSync(out, { recursive: true });
// Only this version's tarballs in the folder, so `npm i <folder>/*.tgz` cannot pick up a stale one.
for (const f of readdirSync(out)) if (/^engram-.*\.tgz$/.test(f)) rmSync(join(out, f));
const npm = process.env.npm_execpath;
const [cmd, pre] = npm && npm.endsWith('.js') ? [process.execPath, [npm]] : ['npm', []];
const packed = JSON.parse(
  execFileSync(cmd, [...pre, 'pack', '--workspaces', '--json', '--ignore-scripts', '--pack-destination', out], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  }),
);
for (const p of packed) {
  process.stdout.write(
    `${join(relative(process.cwd(), out) || '.', p.filename)}  ${p.name}@${p.version}  ${(p.size / 1024).toFixed(0)} kB, ${p.entryCount} files\n`,
  );
}
