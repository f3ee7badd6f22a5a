import { open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { ComponentCheckContext, PipelineProblem } from '@engram/core';

/** One path option to check: its key under the component's pointer and its value. */
export interface NamedPath {
  readonly key: string;
  readonly file: string;
}

/** Why `target` cannot be used as a `kind` ('file' or 'folder'), or undefined when it can. */
export async function pathProblem(target: string, kind: 'file' | 'folder'): Promise<string | undefined> {
  try {
    const s = await stat(target);
    if (kind === 'file' && !s.isFile()) return `${target} is not a file`;
    if (kind === 'folder' && !s.isDirectory()) return `${target} is not a folder`;
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `no such ${kind}: ${target}` : `cannot read ${target} (${code ?? 'error'})`;
  }
}

/**
 * Checks that each named path exists and is a file (or folder): one problem per bad one, at
 * `<context.path>/<key>`. Used by the file sources' `check` (what `engram validate` runs).
 */
export async function checkFiles(
  paths: readonly NamedPath[],
  context: ComponentCheckContext,
  kind: 'file' | 'folder' = 'file',
): Promise<PipelineProblem[]> {
  const out: PipelineProblem[] = [];
  for (const p of paths) {
    const why = await pathProblem(resolve(context.baseDir, p.file), kind);
    if (why !== undefined) out.push({ path: `${context.path}/${p.key}`, message: why });
  }
  return out;
}

/**
 * The first line of a text file (gzip-decompressed when it starts with the gzip magic), read from its
 * first 64 KiB only; undefined when the file is empty. For header checks of CSV files.
 */
export async function firstLine(file: string): Promise<string | undefined> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(65536);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    let bytes = buffer.subarray(0, bytesRead);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
      // A partial gzip stream: take what inflates.
      try {
        bytes = gunzipSync(bytes, { finishFlush: 2 /* Z_SYNC_FLUSH */ });
      } catch {
        return undefined;
      }
    }
    const text = bytes.toString('utf8');
    if (text.length === 0) return undefined;
    const end = text.search(/\r?\n/);
    return end < 0 ? text : text.slice(0, end);
  } finally {
    await handle.close();
  }
}
