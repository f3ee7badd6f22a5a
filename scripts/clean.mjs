// Removes compiled output so deleted sources and tests never linger in dist/ (design §1).
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

for (const pkg of readdirSync('packages')) {
  const dir = join('packages', pkg);
  rmSync(join(dir, 'dist'), { recursive: true, force: true });
  for (const f of readdirSync(dir)) if (f.endsWith('.tsbuildinfo')) rmSync(join(dir, f), { force: true });
}
