// Builds the N-API addon with node-gyp at install time. Never fails the install: when the build
// fails (no compiler, no headers), Engram trains on the pure-wasm kernels and load() says why.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

if (process.env.ENGRAM_NATIVE === '0') {
  console.log('@engram/native: ENGRAM_NATIVE=0, skipping the native build');
  process.exit(0);
}
const args = ['rebuild'];
// Offline builds need the running Node's headers: use them when they are installed beside it.
const prefix = dirname(dirname(process.execPath));
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) {
  args.push(`--nodedir=${prefix}`);
}
// npm passes its bundled node-gyp; outside npm, use the one shipped with npm beside this Node.
const bundled = join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const gypJs = process.env.npm_config_node_gyp ?? (existsSync(bundled) ? bundled : undefined);
const result = gypJs
  ? spawnSync(process.execPath, [gypJs, ...args], { stdio: 'inherit' })
  : spawnSync('node-gyp', args, { stdio: 'inherit', shell: process.platform === 'win32' });
if (result.status !== 0) {
  console.warn('@engram/native: native build failed; pure wasm kernels will be used');
}
process.exit(0);
