import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, normalize, relative, resolve, sep } from 'node:path';
import { ensureDir } from '../output/safe-dir.js';

/** Format version of checkpoint directories written by this core. */
export const CHECKPOINT_FORMAT = 1;

/** `manifest.json` of a checkpoint directory. */
export interface CheckpointManifest {
  readonly format: number;
  readonly engram: string;
  readonly step: number;
  readonly createdAt: string;
  /** sha256 (hex) and size of every other file, by path relative to the checkpoint directory. */
  readonly files: Record<string, { sha256: string; bytes: number }>;
}

/** One file of a checkpoint. */
export interface CheckpointFile {
  readonly path: string;
  readonly data: Uint8Array | string;
}

/** Error raised for a checkpoint that fails verification. */
export class CorruptCheckpointError extends Error {}

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
    for (const f of files) {
      const data = typeof f.data === 'string' ? new TextEncoder().encode(f.data) : f.data;
      const target = safeJoin(tmp, f.path);
      await mkdir(resolve(target, '..'), { recursive: true });
      await writeFile(target, data);
      await fsyncPath(target);
      entries[f.path] = { sha256: sha256(data), bytes: data.byteLength };
      bytes += data.byteLength;
    }
    const manifest: CheckpointManifest = { format: CHECKPOINT_FORMAT, engram: this.version, step, createdAt: new Date().toISOString(), files: entries };
    await faultPause(step);
    await writeFile(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 1));
    await fsyncPath(join(tmp, 'manifest.json'));
    await fsyncPath(tmp);
    const dir = join(this.root, name);
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
    await fsyncPath(this.root);
    await this.prune();
    return { dir, bytes };
  }

  /** Checkpoint directories, newest first. */
  async list(): Promise<string[]> {
    const names = await readdir(this.root).catch(() => [] as string[]);
    return names.filter((n) => /^step-\d{12}$/.test(n)).sort().reverse().map((n) => join(this.root, n));
  }

  /** Reads and verifies a checkpoint: every manifest file present with the right sha256. */
  static async read(dir: string): Promise<{ manifest: CheckpointManifest; files: Map<string, Uint8Array> }> {
    let manifest: CheckpointManifest;
    try {
      manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as CheckpointManifest;
    } catch (e) {
      throw new CorruptCheckpointError(`${dir}: unreadable manifest (${(e as Error).message})`);
    }
    if (manifest.format !== CHECKPOINT_FORMAT) throw new CorruptCheckpointError(`${dir}: format ${manifest.format}, expected ${CHECKPOINT_FORMAT}`);
    const files = new Map<string, Uint8Array>();
    for (const [path, meta] of Object.entries(manifest.files)) {
      const full = safeJoin(dir, path);
      const data = await readFile(full).catch(() => undefined);
      if (!data) throw new CorruptCheckpointError(`${dir}: missing ${path}`);
      if (data.byteLength !== meta.bytes || sha256(data) !== meta.sha256) throw new CorruptCheckpointError(`${dir}: ${path} fails its checksum`);
      files.set(path, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
    return { manifest, files };
  }

  /** Removes checkpoints beyond the newest `keep`, and temporary directories of crashed writers. */
  private async prune(): Promise<void> {
    const all = await this.list();
    for (const old of all.slice(this.keep)) await rm(old, { recursive: true, force: true });
    const names = await readdir(this.root).catch(() => [] as string[]);
    for (const n of names) if (n.startsWith('.tmp-step-') && !n.endsWith(`-${process.pid}`)) await rm(join(this.root, n), { recursive: true, force: true });
  }
}
