#!/usr/bin/env node
// Writes Fashion-MNIST (Debian package dataset-fashion-mnist) as an image-folder tree of PNGs, once:
//   examples/image-folder/fashion-mnist-png/{train,test}/<n-class>/<index>.png
// By default the first 20,000 training and all 10,000 test images — the same images the IDX pipeline
// examples/fashion-mnist-split.pipeline.json reads with "limit": 20000. Run after `npm run build`:
//   node examples/image-folder/make-fashion-mnist-tree.mjs [--train 20000] [--test 10000] [--out DIR]
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { idxToImageFolder } from '@engram/datasets';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const src = '/usr/share/datasets/fashion-mnist';
const out = arg('out', join(here, 'fashion-mnist-png'));
// Folder names sort in label order (ImageFolder gives class ids by sorted name).
const classNames = [
  '0-tshirt',
  '1-trouser',
  '2-pullover',
  '3-dress',
  '4-coat',
  '5-sandal',
  '6-shirt',
  '7-sneaker',
  '8-bag',
  '9-boot',
];
if (!existsSync(join(src, 'train-images-idx3-ubyte.gz'))) {
  process.stderr.write(`error: ${src} not found; apt-get install dataset-fashion-mnist\n`);
  process.exit(1);
}
if (existsSync(join(out, 'train'))) {
  process.stdout.write(`${out} exists; delete it to write it again\n`);
  process.exit(0);
}
const t0 = Date.now();
const train = await idxToImageFolder({
  images: join(src, 'train-images-idx3-ubyte.gz'),
  labels: join(src, 'train-labels-idx1-ubyte.gz'),
  out: join(out, 'train'),
  limit: Number(arg('train', '20000')),
  classNames,
});
const test = await idxToImageFolder({
  images: join(src, 't10k-images-idx3-ubyte.gz'),
  labels: join(src, 't10k-labels-idx1-ubyte.gz'),
  out: join(out, 'test'),
  limit: Number(arg('test', '10000')),
  classNames,
});
process.stdout.write(
  `wrote ${train} train + ${test} test PNGs to ${out} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
);
