import { readdir, readFile } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';

/** Extensions an image folder's files may have (lower case, with the dot). */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp'] as const;

/** A list of image files with their labels: what a folder tree or a manifest describes. */
export interface ImageList {
  readonly files: readonly string[];
  readonly labels: readonly (string | number)[];
  readonly tasks?: readonly number[];
}

/** The indexed images of an image-folder source: train (and test) files with class ids. */
export interface ImageIndex {
  readonly classNames: readonly string[];
  readonly train: { files: readonly string[]; y: Int32Array; task?: Int32Array };
  readonly test?: { files: readonly string[]; y: Int32Array; task?: Int32Array };
}

/** A problem with the folder layout; `key` is the option it belongs to (`root`, `manifest`). */
export class ImageLayoutError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
  }
}

const isImage = (name: string): boolean =>
  (IMAGE_EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase());

async function dirents(dir: string, key: string) {
  try {
    return (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ImageLayoutError(
      key,
      code === 'ENOENT' ? `no such folder: ${dir}` : `cannot read ${dir} (${code ?? 'error'})`,
    );
  }
}

/**
 * Lists `dir/<class>/*.{png,jpg,jpeg,webp}` (torchvision ImageFolder): class folders and files sorted by
 * name (code-point order). A class folder with no image is an error; files of other types are ignored.
 */
export async function scanClassFolders(dir: string, key = 'root'): Promise<ImageList> {
  const classes = (await dirents(dir, key)).filter((d) => d.isDirectory() && !d.name.startsWith('.'));
  if (classes.length === 0)
    throw new ImageLayoutError(key, `${dir} holds no class folders (expected ${dir}/<class>/*.png)`);
  const files: string[] = [];
  const labels: string[] = [];
  for (const c of classes) {
    const images = (await dirents(join(dir, c.name), key)).filter((d) => !d.isDirectory() && isImage(d.name));
    if (images.length === 0)
      throw new ImageLayoutError(
        key,
        `class folder ${join(dir, c.name)} holds no image (${IMAGE_EXTENSIONS.join(', ')})`,
      );
    for (const f of images) {
      files.push(join(dir, c.name, f.name));
      labels.push(c.name);
    }
  }
  return { files, labels };
}

/** True when `dir` has `train/` and `test/` sub-folders (the official split of the folder tree). */
export async function hasSplitFolders(dir: string): Promise<boolean> {
  const names = new Set((await dirents(dir, 'root')).filter((d) => d.isDirectory()).map((d) => d.name));
  return names.has('train') && names.has('test');
}

/**
 * Reads a manifest: CSV with a header naming `path` and `label` (and optionally `task`) columns, or JSONL
 * records `{ "path", "label", "task"? }`. Paths are relative to the manifest's folder.
 */
export async function readManifest(file: string): Promise<ImageList> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new ImageLayoutError('manifest', `no such file: ${file}`);
  }
  const base = dirname(file);
  const rows: Record<string, unknown>[] = [];
  if (file.toLowerCase().endsWith('.jsonl')) {
    text.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        rows.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        throw new ImageLayoutError('manifest', `${file}: line ${i + 1} is not JSON`);
      }
    });
  } else {
    rows.push(...parse<Record<string, string>>(text, { columns: true, skip_empty_lines: true, trim: true }));
  }
  const files: string[] = [];
  const labels: (string | number)[] = [];
  const tasks: number[] = [];
  rows.forEach((r, i) => {
    const where = `${file}: ${file.toLowerCase().endsWith('.jsonl') ? 'record' : 'row'} ${i + 1}`;
    if (typeof r['path'] !== 'string' || r['path'] === '')
      throw new ImageLayoutError('manifest', `${where} has no path`);
    const label = r['label'];
    if (typeof label !== 'string' && typeof label !== 'number')
      throw new ImageLayoutError('manifest', `${where} has no label`);
    files.push(resolve(base, r['path']));
    labels.push(label);
    if (r['task'] !== undefined && r['task'] !== '') {
      const t = Number(r['task']);
      if (!Number.isInteger(t) || t < 0)
        throw new ImageLayoutError('manifest', `${where}: task must be an integer >= 0`);
      tasks.push(t);
    }
  });
  if (files.length === 0) throw new ImageLayoutError('manifest', `${file} lists no image`);
  if (tasks.length !== 0 && tasks.length !== files.length)
    throw new ImageLayoutError('manifest', `${file}: give a task on every row or on none`);
  return { files, labels, ...(tasks.length ? { tasks } : {}) };
}

/**
 * Class ids of `lists` (train first): labels that are all integers keep their value; otherwise class
 * names sorted in code-point order get ids 0.. (as ImageFolder). A test label unknown to train is an error.
 */
export function indexImages(train: ImageList, test?: ImageList): ImageIndex {
  const numeric = [...train.labels, ...(test?.labels ?? [])].every((l) => /^\d+$/.test(String(l)));
  let classNames: string[];
  if (numeric) {
    const max = Math.max(...[...train.labels, ...(test?.labels ?? [])].map(Number));
    classNames = Array.from({ length: max + 1 }, (_, i) => String(i));
  } else {
    classNames = [...new Set(train.labels.map(String))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
  const ids = new Map(classNames.map((c, i) => [c, i]));
  const toSet = (list: ImageList, what: string) => {
    const y = Int32Array.from(list.labels, (l) => {
      const id = numeric ? Number(l) : ids.get(String(l));
      if (id === undefined) throw new ImageLayoutError('root', `${what} class "${String(l)}" has no training images`);
      return id;
    });
    return { files: list.files, y, ...(list.tasks ? { task: Int32Array.from(list.tasks) } : {}) };
  };
  return { classNames, train: toSet(train, 'train'), ...(test ? { test: toSet(test, 'test') } : {}) };
}
