import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';

/**
 * The temp name a file is written under before it replaces `path`: beside it (same file system, so
 * the rename is atomic), with the process id (two writers never share one).
 */
export function tempPathOf(path: string): string {
  return `${path}.tmp-${process.pid}`;
}

/**
 * Replaces `path` with `data` atomically: written to a temp file beside it, fsynced, then renamed over
 * it. A reader, or a process killed at any moment, sees the old file whole or the new one whole, never
 * a truncated one. Called by every writer of a run's files (summary, reports, exports, dead letters);
 * touches only `path` and its temp file (removed again when the write fails).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempPathOf(path);
  try {
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/** {@link writeFileAtomic}, synchronously (for writers on a synchronous path). */
export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  const tmp = tempPathOf(path);
  try {
    const fd = openSync(tmp, 'w');
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let done = 0;
      while (done < bytes.byteLength) done += writeSync(fd, bytes, done, bytes.byteLength - done);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
