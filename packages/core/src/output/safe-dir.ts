import { mkdirSync, statSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/** A folder that cannot be created or is not a folder: one-line message naming it. */
export class OutputDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputDirError';
  }
}

const why = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

/** The ancestors of `dir` that are missing, outermost first (stops at the first one that exists). */
function missingChain(dir: string, exists: (p: string) => boolean): string[] {
  const chain: string[] = [];
  let p = resolve(dir);
  while (!exists(p)) {
    chain.unshift(p);
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  return chain;
}

/**
 * `mkdir -p` that always ends. Node's `mkdir(…, { recursive: true })` spins forever where `mkdir`
 * answers ENOENT although the parent exists (`/proc`, some FUSE and network mounts) — a busy loop that
 * blocks the event loop, so not even SIGTERM's handler runs. This creates one level at a time with
 * plain `mkdir` and turns any failure into an {@link OutputDirError}.
 */
export function ensureDirSync(dir: string): void {
  const exists = (p: string): boolean => {
    try {
      statSync(p);
      return true;
    } catch {
      return false;
    }
  };
  for (const p of missingChain(dir, exists)) {
    try {
      mkdirSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new OutputDirError(`cannot create folder ${p}: ${why(e)}`);
    }
  }
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (e) {
    throw new OutputDirError(`cannot use folder ${dir}: ${why(e)}`);
  }
  if (!isDir) throw new OutputDirError(`cannot use ${dir} as a folder: it is a file`);
}

/** {@link ensureDirSync}, asynchronously. */
export async function ensureDir(dir: string): Promise<void> {
  const known = new Map<string, boolean>();
  let p = resolve(dir);
  // probe the ancestors first (async), then reuse the synchronous walk over the answers
  for (;;) {
    const there = await stat(p).then(
      () => true,
      () => false,
    );
    known.set(p, there);
    const up = dirname(p);
    if (there || up === p) break;
    p = up;
  }
  for (const q of missingChain(dir, (x) => known.get(x) ?? true)) {
    try {
      await mkdir(q);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new OutputDirError(`cannot create folder ${q}: ${why(e)}`);
    }
  }
  const s = await stat(dir).catch((e: unknown) => {
    throw new OutputDirError(`cannot use folder ${dir}: ${why(e)}`);
  });
  if (!s.isDirectory()) throw new OutputDirError(`cannot use ${dir} as a folder: it is a file`);
}
