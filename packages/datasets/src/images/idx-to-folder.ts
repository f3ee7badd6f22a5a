import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readIdx } from '../data/idx-reader.js';
import { encodePng } from './png-encode.js';

/** Options of {@link idxToImageFolder}. */
export interface IdxToFolderOptions {
  /** IDX file of `[n, h, w]` ubyte images (raw or .gz). */
  readonly images: string;
  /** IDX file of the `n` labels. */
  readonly labels: string;
  /** Folder to write `<class>/<index>.png` into (created). */
  readonly out: string;
  /** Only the first N images. */
  readonly limit?: number;
  /** Folder name of each class, by label (default: the label). Sorted names must keep label order. */
  readonly classNames?: readonly string[];
}

/**
 * Writes IDX images as an image-folder tree, `out/<class>/<00000index>.png` (8-bit grey PNG), so an
 * image-folder pipeline can be checked against the IDX pipeline over the same pixels. Returns how many
 * images it wrote. Used by `examples/image-folder/make-fashion-mnist-tree.mjs` and the example tests.
 */
export async function idxToImageFolder(o: IdxToFolderOptions): Promise<number> {
  const images = await readIdx(o.images);
  const labels = await readIdx(o.labels);
  const [n0 = 0, h = 0, w = 0] = images.dims;
  if (images.dims.length !== 3 || images.type !== 'ubyte')
    throw new Error(`${o.images}: expected [n, h, w] ubyte images`);
  const n = Math.min(n0, o.limit ?? n0, labels.dims[0] ?? 0);
  const made = new Set<string>();
  for (let i = 0; i < n; i++) {
    const label = labels.data[i] as number;
    const name = o.classNames?.[label] ?? String(label);
    const dir = join(o.out, name);
    if (!made.has(dir)) {
      await mkdir(dir, { recursive: true });
      made.add(dir);
    }
    const pixels = Uint8Array.from(images.data.subarray(i * h * w, (i + 1) * h * w));
    await writeFile(join(dir, `${String(i).padStart(5, '0')}.png`), encodePng(w, h, 1, pixels));
  }
  return n;
}
