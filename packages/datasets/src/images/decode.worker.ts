import { parentPort } from 'node:worker_threads';
import { decodeInto } from './decode-image.js';
import type { DecodeReply, DecodeRequest } from './decode-spec.js';

// A decode worker (node:worker_threads): answers each DecodeRequest with one block of pixels,
// transferred (not copied) back. A file that fails is reported by position; the others still decode.
// Requests queue here and are decoded one after another, in the order they came.
const port = parentPort;
if (!port) throw new Error('decode.worker must run as a worker thread');
let queue: Promise<void> = Promise.resolve();
port.on('message', (req: DecodeRequest) => {
  queue = queue.then(() => decodeAll(req)).then((reply) => port.postMessage(reply, [reply.x.buffer as ArrayBuffer]));
});

async function decodeAll(req: DecodeRequest): Promise<DecodeReply> {
  const len = req.spec.height * req.spec.width * req.spec.channels;
  const x = new Float32Array(req.files.length * len);
  const failed: { at: number; reason: string }[] = [];
  for (let i = 0; i < req.files.length; i++) {
    try {
      await decodeInto(req.files[i] as string, req.spec, x.subarray(i * len, (i + 1) * len));
    } catch (e) {
      x.fill(0, i * len, (i + 1) * len);
      failed.push({ at: i, reason: ((e as Error).message || 'unreadable').split('\n')[0] as string });
    }
  }
  return { id: req.id, x, failed };
}
