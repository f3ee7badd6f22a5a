import type { Rng } from '@engram/core';
import type { SampleMap } from '../data/indexed-batch-source.js';

/** A seeded permutation of the `length` input values: `out[i] = input[perm[i]]`. */
export function permutationMap(length: number, rng: Rng): { map: SampleMap; permutation: Int32Array } {
  const permutation = rng.permutation(length);
  const map: SampleMap = (input, out) => {
    for (let i = 0; i < length; i++) out[i] = input[permutation[i] as number] as number;
  };
  return { map, permutation };
}

/** Height, width and channels of an image sample shape: `[H, W, C]`, `[H, W]` or a flat square `[H*W]`. */
export function imageDims(sampleShape: readonly number[]): [number, number, number] {
  const [a, b, c] = sampleShape;
  if (sampleShape.length === 3 && a && b && c) return [a, b, c];
  if (sampleShape.length === 2 && a && b) return [a, b, 1];
  if (sampleShape.length === 1 && a) {
    const side = Math.round(Math.sqrt(a));
    if (side * side === a) return [side, side, 1];
  }
  throw new Error(
    `images are needed here: sample shape [${sampleShape.join(', ')}] is not [H, W, C], [H, W] or a flat square`,
  );
}

/** Rotation by `degrees` about the image centre, bilinear, zero outside the image. */
export function rotationMap(sampleShape: readonly number[], degrees: number): SampleMap {
  const [h, w, ch] = imageDims(sampleShape);
  const rad = (degrees * Math.PI) / 180;
  const cos = Math.cos(rad);
  const sin = Math.sin(rad);
  const cy = (h - 1) / 2;
  const cx = (w - 1) / 2;
  return (input, out) => {
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) {
        // Inverse-rotate the output pixel into the input image.
        const dy = r - cy;
        const dx = c - cx;
        const sy = cos * dy + sin * dx + cy;
        const sx = -sin * dy + cos * dx + cx;
        const y0 = Math.floor(sy);
        const x0 = Math.floor(sx);
        const fy = sy - y0;
        const fx = sx - x0;
        for (let k = 0; k < ch; k++) {
          const at = (yy: number, xx: number): number =>
            yy < 0 || yy >= h || xx < 0 || xx >= w ? 0 : (input[(yy * w + xx) * ch + k] as number);
          const v =
            at(y0, x0) * (1 - fy) * (1 - fx) +
            at(y0, x0 + 1) * (1 - fy) * fx +
            at(y0 + 1, x0) * fy * (1 - fx) +
            at(y0 + 1, x0 + 1) * fy * fx;
          out[(r * w + c) * ch + k] = v;
        }
      }
    }
  };
}
