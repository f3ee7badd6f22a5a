#!/usr/bin/env node
// The `engram` command's entry point. It is committed (not built) so that `npm ci` can link
// node_modules/.bin/engram before anything is compiled; it runs the compiled CLI in ../dist.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write(
    'error: engram is not built yet; run `npm run build` (or `npm start`) in the repository first\n',
  );
  process.exit(1);
}
await import(main.href);
