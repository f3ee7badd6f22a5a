import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import type { DecodeSpec } from './decode-spec.js';
import { readPlainPng } from './png-decode.js';

// Each decode worker is one thread: libvips' own pool would only compete with the other workers.
sharp.concurrency(1);
sharp.cache(false);

/**
 * Decodes one image file into `out` (`h * w * c` values, HWC, scaled): resize, center crop, colour
 * conversion as `spec` says. Runs inside a decode worker (or the main thread for a probe). Throws a
 * short reason (never the file's content) when the file is not a readable image or has the wrong size.
 */
export async function decodeInto(file: string, spec: DecodeSpec, out: Float32Array): Promise<void> {
  let input: string | Buffer = file;
  if (spec.resize === undefined && /\.png$/i.test(file)) {
    // Plain 8-bit grey/RGB PNGs (most image folders) skip libvips: the same bytes, without its per-call cost.
    // Synchronous: a decode worker has nothing else to do meanwhile, and small files read faster so.
    input = readFileSync(file);
    const png = readPlainPng(input);
    if (png && png.channels === spec.channels) return copyInto(png.data, png, spec, out);
  }
  let img = sharp(input, { failOn: 'error' });
  if (spec.resize !== undefined) {
    img =
      typeof spec.resize === 'number'
        ? img.resize({ width: spec.resize, height: spec.resize, fit: 'outside' })
        : img.resize({ width: spec.resize[1], height: spec.resize[0], fit: 'fill' });
  }
  img = spec.channels === 1 ? img.toColourspace('b-w') : img.removeAlpha().toColourspace('srgb');
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  copyInto(data, info, spec, out);
}

/** Checks the decoded size (or center-crops) and writes the scaled pixels into `out`. */
function copyInto(
  data: Uint8Array,
  info: { readonly width: number; readonly height: number; readonly channels: number },
  spec: DecodeSpec,
  out: Float32Array,
): void {
  const c = info.channels;
  if (c !== spec.channels) throw new Error(`decoded ${c} channels, expected ${spec.channels}`);
  let top = 0;
  let left = 0;
  if (spec.centerCrop !== undefined) {
    const [ch, cw] = spec.centerCrop;
    if (info.height < ch || info.width < cw)
      throw new Error(`${info.width}x${info.height} is smaller than the ${cw}x${ch} center crop`);
    top = Math.floor((info.height - ch) / 2);
    left = Math.floor((info.width - cw) / 2);
  } else if (info.height !== spec.height || info.width !== spec.width) {
    throw new Error(`is ${info.width}x${info.height}, the others ${spec.width}x${spec.height} (set resize)`);
  }
  const rowLen = spec.width * c;
  for (let r = 0; r < spec.height; r++) {
    const src = ((top + r) * info.width + left) * c;
    const dst = r * rowLen;
    for (let i = 0; i < rowLen; i++) out[dst + i] = (data[src + i] as number) * spec.scale;
  }
}

/** Width, height of an image from its header only (no pixel decode). */
export async function imageSize(file: string): Promise<{ width: number; height: number }> {
  const m = await sharp(file).metadata();
  if (m.width === undefined || m.height === undefined) throw new Error('no image size in its header');
  return { width: m.width, height: m.height };
}
