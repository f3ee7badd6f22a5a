// Worker body of parallel-updates.test.ts: the penalised Adam steps on a fresh heap, in this thread.
import { parentPort } from 'node:worker_threads';
import { loadAddon } from '../addon/native-addon.js';
import { HEAP_FLOATS, adamStateBytes, makeAdamHeap, penalizedAdamSteps } from './penalized-adam-heap.js';

const loaded = loadAddon();
if ('error' in loaded) {
  parentPort?.postMessage({ error: loaded.error });
} else {
  const heap = makeAdamHeap();
  penalizedAdamSteps(loaded.addon, heap, 0, HEAP_FLOATS);
  parentPort?.postMessage(adamStateBytes(heap));
}
