import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { activateBackend, BackendUnavailableError } from './backend.selector.js';

/** This module's compiled selector: the importer a failed `import('@tensorflow/tfjs-node…')` names. */
const SELECTOR = fileURLToPath(new URL('./backend.selector.js', import.meta.url));

async function importable(pkg: string): Promise<boolean> {
  try {
    await import(pkg);
    return true;
  } catch {
    return false;
  }
}

test("an explicit backend that cannot be used fails with one line holding each package's whole cause", async (t) => {
  if ((await importable('@tensorflow/tfjs-node')) || (await importable('@tensorflow/tfjs-node-gpu'))) {
    t.skip('tfjs-node is installed here: the tensorflow backend is available');
    return;
  }
  const error = await activateBackend('tensorflow').then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof BackendUnavailableError, String(error));
  const message = error.message;
  assert.doesNotMatch(message, /\n/, 'one line');
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    // Node's own words, with the importing file's full path: nothing cut off.
    assert.ok(
      message.includes(`${pkg} not importable (Cannot find package '${pkg}' imported from ${SELECTOR})`),
      message,
    );
  }
});
