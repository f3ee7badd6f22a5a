import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Folder of the committed ONNX fixtures (written by `fixtures/onnx/make_fixtures.py` with PyTorch). */
export const ONNX_FIXTURES = fileURLToPath(new URL('../../fixtures/onnx/', import.meta.url));

/** One fixture: the `.onnx` bytes and PyTorch's reference inputs (ONNX layout) and logits. */
export interface OnnxFixture {
  readonly file: string;
  readonly bytes: Uint8Array;
  readonly rows: number;
  /** Shape of one input row as ONNX takes it (`[C, H, W]` for images). */
  readonly inputShape: number[];
  readonly outputs: number;
  readonly inputs: Float32Array;
  readonly logits: Float32Array;
}

function floats(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** Reads fixture `name` (`mlp`, `cnn`, `resnet18-reduced`, `gru`, the recurrent `rnn-*`). */
export function onnxFixture(name: string): OnnxFixture {
  const meta = JSON.parse(readFileSync(`${ONNX_FIXTURES}${name}.json`, 'utf8')) as {
    rows: number;
    inputShape: number[];
    outputs: number;
  };
  return {
    file: `${ONNX_FIXTURES}${name}.onnx`,
    bytes: readFileSync(`${ONNX_FIXTURES}${name}.onnx`),
    rows: meta.rows,
    inputShape: meta.inputShape,
    outputs: meta.outputs,
    inputs: floats(`${ONNX_FIXTURES}${name}.inputs.f32`),
    logits: floats(`${ONNX_FIXTURES}${name}.outputs.f32`),
  };
}

/** Rows of NCHW images as NHWC (what an imported image model takes); other inputs unchanged. */
export function toChannelsLast(inputs: Float32Array, rowShape: readonly number[]): Float32Array {
  if (rowShape.length !== 3) return inputs;
  const [c, h, w] = rowShape as [number, number, number];
  const out = new Float32Array(inputs.length);
  const per = c * h * w;
  for (let r = 0; r < inputs.length / per; r++)
    for (let ch = 0; ch < c; ch++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) out[r * per + (y * w + x) * c + ch] = inputs[r * per + (ch * h + y) * w + x] ?? 0;
  return out;
}
