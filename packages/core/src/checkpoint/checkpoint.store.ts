import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readdir, realpath, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join, normalize, relative, resolve, sep } from 'node:path';
import { ensureDir } from '../output/safe-dir.js';
import {
  CHECKPOINT_FORMAT,
  checkManifestShape,
  MAX_MANIFEST_BYTES,
  READABLE_CHECKPOINT_FORMATS,
  type CheckpointManifest,
} from './checkpoint-manifest.js';

/** One file of a checkpoint. */
export interface CheckpointFile {
  readonly path: string;
  /** The content: text (UTF-8), bytes, or bytes in pieces written one after another. */
  readonly data: Uint8Array | string | readonly Uint8Array[];
}

/** Error raised for a checkpoint that fails verification. */
export class CorruptCheckpointError extends Error {}

/**
 * Reads `path` of checkpoint `dir` only if it is a regular file inside `dir` (no symlink at any level,
 * no FIFO or device: opened with O_NOFOLLOW | O_NONBLOCK and checked with fstat) of exactly `bytes`
 * bytes (or at most `max` when the size is not known), checked before reading.
 */
async function readCheckedFile(
  dir: string,
  path: string,
  bytes: number | undefined,
  max = Number.MAX_SAFE_INTEGER,
): Promise<Uint8Array> {
  const full = safeJoin(dir, path);
  const root = await realpath(dir);
  const parent = await realpath(dirname(full)).catch(() => undefined);
  if (parent === undefined) throw new CorruptCheckpointError(`${dir}: missing ${path}`);
  if (parent !== root && !parent.startsWith(`${root}${sep}`))
    throw new CorruptCheckpointError(`${dir}: ${path} lies outside the checkpoint directory (a symlinked folder)`);
  let handle: FileHandle;
  try {
    handle = await open(full, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CorruptCheckpointError(`${dir}: missing ${path}`);
    if (code === 'ELOOP') throw new CorruptCheckpointError(`${dir}: ${path} is a symlink; only regular files are read`);
    throw new CorruptCheckpointError(`${dir}: cannot open ${path} (${code ?? (e as Error).message})`);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new CorruptCheckpointError(`${dir}: ${path} is not a regular file`);
    if (bytes !== undefined && st.size !== bytes)
      throw new CorruptCheckpointError(
        `${dir}: ${path} fails its checksum (${st.size} bytes, the manifest says ${bytes})`,
      );
    if (st.size > max)
      throw new CorruptCheckpointError(`${dir}: ${path} is ${st.size} bytes, over the ${max}-byte limit`);
    const data = new Uint8Array(st.size);
    let off = 0;
    while (off < data.byteLength) {
      const { bytesRead } = await handle.read(data, off, data.byteLength - off, off);
      if (bytesRead === 0) throw new CorruptCheckpointError(`${dir}: ${path} shrank while it was read`);
      off += bytesRead;
    }
    return data;
  } finally {
    await handle.close();
  }
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Resolves `path` inside `dir`, refusing anything that escapes it. */
export function safeJoin(dir: string, path: string): string {
  const full = resolve(dir, normalize(path));
  const rel = relative(resolve(dir), full);
  if (rel === '' || rel.startsWith('..') || rel.split(sep).includes('..') || resolve(path) === path) {
    throw new CorruptCheckpointError(`checkpoint path "${path}" escapes the checkpoint directory`);
  }
  return full;
}

/**
 * Fault injection for crash tests: with `ENGRAM_FAULT_CHECKPOINT_PAUSE=<step>:<ms>`, the write of the
 * checkpoint of `<step>` pauses for `<ms>` after its data files and before its manifest and rename, so
 * a test can kill the process in the middle of a write. Unset, it costs one environment lookup.
 */
async function faultPause(step: number): Promise<void> {
  const fault = process.env['ENGRAM_FAULT_CHECKPOINT_PAUSE'];
  if (!fault) return;
  const [at, ms] = fault.split(':').map(Number);
  if (at === step && ms !== undefined && ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Writes `parts` one after another to a new file at `path` and fsyncs it before resolving. */
async function writeDurably(path: string, parts: readonly Uint8Array[]): Promise<void> {
  const h = await open(path, 'w');
  try {
    for (const p of parts) {
      let done = 0;
      while (done < p.byteLength) done += (await h.write(p, done, p.byteLength - done)).bytesWritten;
    }
    await h.sync();
  } finally {
    await h.close();
  }
}

async function fsyncPath(path: string): Promise<void> {
  const h = await open(path, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/**
 * Checkpoint directories under `root`, named `step-<12 digits>`. Writes are atomic: files go to a
 * temporary directory, are fsynced, and the directory is renamed into place, so a crash mid-write
 * never damages an existing checkpoint. Keeps the newest `keep`.
 */
export class CheckpointStore {
  constructor(
    readonly root: string,
    private readonly keep: number,
    private readonly version: string,
  ) {}

  /** Writes a checkpoint for `step`; returns its directory and size. */
  async write(step: number, files: readonly CheckpointFile[]): Promise<{ dir: string; bytes: number }> {
    await ensureDir(this.root);
    const name = `step-${String(step).padStart(12, '0')}`;
    const tmp = join(this.root, `.tmp-${name}-${process.pid}`);
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp);
    const entries: Record<string, { sha256: string; bytes: number }> = {};
    let bytes = 0;
    // Every file is written and fsynced in libuv's pool while this thread hashes the next one.
    const writes: Array<Promise<void>> = [];
    for (const f of files) {
      const parts =
        typeof f.data === 'string'
          ? [new TextEncoder().encode(f.data)]
          : f.data instanceof Uint8Array
            ? [f.data]
            : f.data;
      const target = safeJoin(tmp, f.path);
      await mkdir(resolve(target, '..'), { recursive: true });
      writes.push(writeDurably(target, parts));
      const hash = createHash('sha256');
      let size = 0;
      for (const p of parts) {
        hash.update(p);
        size += p.byteLength;
      }
      entries[f.path] = { sha256: hash.digest('hex'), bytes: size };
      bytes += size;
    }
    const failed = (await Promise.allSettled(writes)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const manifest: CheckpointManifest = {
      format: CHECKPOINT_FORMAT,
      engram: this.version,
      step,
      createdAt: new Date().toISOString(),
      files: entries,
    };
    await faultPause(step);
    await writeFile(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 1));
    await fsyncPath(join(tmp, 'manifest.json'));
    await fsyncPath(tmp);
    const dir = join(this.root, name);
    // A checkpoint of the same step (a stop right at a scheduled one) is moved aside, not deleted, until
    // its replacement is in place: a kill in between still leaves the older checkpoints to resume from.
    const aside = join(this.root, `.old-${name}-${process.pid}`);
    const replaced = await rename(dir, aside).then(
      () => true,
      () => false,
    );
    await rename(tmp, dir);
    if (replaced) await rm(aside, { recursive: true, force: true });
    await fsyncPath(this.root);
    await this.prune();
    return { dir, bytes };
  }

  /** Checkpoint directories, newest first. */
  async list(): Promise<string[]> {
    const names = await readdir(this.root).catch(() => [] as string[]);
    return names
      .filter((n) => /^step-\d{12}$/.test(n))
      .sort()
      .reverse()
      .map((n) => join(this.root, n));
  }

  /**
   * Reads and verifies a checkpoint: a well-formed manifest, then every file it lists — a regular file
   * (no symlink, FIFO or device) inside the directory, whose size matches the manifest before a byte is
   * read, and whose sha256 matches after. Anything else is a {@link CorruptCheckpointError}.
   */
  static async read(dir: string): Promise<{ manifest: CheckpointManifest; files: Map<string, Uint8Array> }> {
    let manifest: CheckpointManifest;
    try {
      const raw = await readCheckedFile(dir, 'manifest.json', undefined, MAX_MANIFEST_BYTES);
      manifest = checkManifestShape(JSON.parse(new TextDecoder().decode(raw)) as unknown);
    } catch (e) {
      throw new CorruptCheckpointError(`${dir}: unreadable manifest (${(e as Error).message})`);
    }
    if (!READABLE_CHECKPOINT_FORMATS.includes(manifest.format))
      throw new CorruptCheckpointError(
        `${dir}: format ${manifest.format}, expected one of ${READABLE_CHECKPOINT_FORMATS.join(', ')}`,
      );
    // Files are read concurrently; each is hashed as soon as it is in, while the others still load.
    const verify = async ([path, meta]: [string, { sha256: string; bytes: number }]): Promise<[string, Uint8Array]> => {
      let data: Uint8Array;
      try {
        data = await readCheckedFile(dir, path, meta.bytes);
      } catch (e) {
        if (e instanceof CorruptCheckpointError) throw e;
        throw new CorruptCheckpointError(`${dir}: ${path}: ${(e as Error).message}`);
      }
      if (sha256(data) !== meta.sha256) throw new CorruptCheckpointError(`${dir}: ${path} fails its checksum`);
      return [path, data];
    };
    const settled = await Promise.allSettled(Object.entries(manifest.files).map(verify));
    // The first failure in manifest order, so the error does not depend on which read finished first.
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const files = new Map(settled.map((r) => (r as PromiseFulfilledResult<[string, Uint8Array]>).value));
    return { manifest, files };
  }

  /** Removes checkpoints beyond the newest `keep`, and temporary directories of crashed writers. */
  private async prune(): Promise<void> {
    const all = await this.list();
    for (const old of all.slice(this.keep)) await rm(old, { recursive: true, force: true });
    const names = await readdir(this.root).catch(() => [] as string[]);
    for (const n of names)
      if ((n.startsWith('.tmp-step-') || n.startsWith('.old-step-')) && !n.endsWith(`-${process.pid}`))
        await rm(join(this.root, n), { recursive: true, force: true });
  }
}
